#include "targets/cuda/launch_config.h"

#include <algorithm>

namespace kiln::cuda {

namespace {
constexpr int kWarp = 32, kMaxThreads = 1024;
int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }
}  // namespace

RowLaunch rowLaunch(int64_t rows, int64_t cols, int valuesPerReduction) {
  RowLaunch l;
  // About four elements per thread keeps loads in flight without idle threads on short rows.
  const int64_t wanted = ceilDiv(std::max<int64_t>(cols, 1), 4);
  l.threads = int(std::clamp<int64_t>(ceilDiv(wanted, kWarp) * kWarp, kWarp, kMaxThreads));
  l.blocks = std::max<int64_t>(rows, 0);
  l.sharedBytes = size_t(l.threads / kWarp) * sizeof(float) * size_t(valuesPerReduction);
  return l;
}

ColumnSumLaunch columnSumLaunch(int64_t rows, int64_t cols) {
  ColumnSumLaunch l;
  l.columnTiles = ceilDiv(std::max<int64_t>(cols, 1), l.tileCols);
  // Enough blocks to fill a large GPU (a few thousand warps), each slice at least 32 rows.
  const int64_t wantedBlocks = 1024;
  l.splits = std::clamp<int64_t>(ceilDiv(wantedBlocks, l.columnTiles), 1, std::max<int64_t>(1, ceilDiv(rows, 32)));
  l.rowsPerSplit = ceilDiv(std::max<int64_t>(rows, 1), l.splits);
  l.splits = ceilDiv(std::max<int64_t>(rows, 1), l.rowsPerSplit);  // no empty slice
  l.workspaceFloats = size_t(2 * l.splits * cols + 2 * rows);
  return l;
}

WarpRowsLaunch warpRowsLaunch(int64_t rows) {
  WarpRowsLaunch l;
  l.blocks = ceilDiv(std::max<int64_t>(rows, 0), l.threads / kWarp);
  return l;
}

std::vector<AdamWChunk> adamwChunks(const std::vector<int64_t>& paramSizes, int64_t chunk) {
  std::vector<AdamWChunk> out;
  for (size_t p = 0; p < paramSizes.size(); ++p)
    for (int64_t b = 0; b < paramSizes[p]; b += chunk) out.push_back({int32_t(p), b, std::min(paramSizes[p], b + chunk)});
  return out;
}

}  // namespace kiln::cuda
