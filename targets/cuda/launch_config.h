// How the cuda target's hand-written kernels are launched, decided on the host from the shapes
// alone (no GPU needed, so the choices are unit-tested everywhere). The kernels in kernels/ take
// these as given.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace kiln::cuda {

// One thread block per row of `cols` elements (layer norm, cross-entropy): enough threads that
// each handles a few elements, a multiple of the warp, at most 1024.
struct RowLaunch {
  int threads = 0;
  int64_t blocks = 0;          // one per row
  size_t sharedBytes = 0;      // one float per warp for block reductions (two for max/sum pairs)
};
RowLaunch rowLaunch(int64_t rows, int64_t cols, int valuesPerReduction = 1);

// layer_norm_grad's dgain/dbias: columns in tiles of 32, rows split into `splits` slices summed
// separately, then the slices added in order (deterministic, no atomics).
struct ColumnSumLaunch {
  int tileCols = 32, sliceRows = 8;  // block: tileCols x sliceRows threads
  int64_t columnTiles = 0;
  int64_t splits = 0;                // grid: columnTiles x splits
  int64_t rowsPerSplit = 0;
  size_t workspaceFloats = 0;        // partial sums: 2 (gain, bias) x splits x cols, + 2 x rows (mean, rstd)
};
ColumnSumLaunch columnSumLaunch(int64_t rows, int64_t cols);

// One warp per row (attention's query and key rows): 4 warps a block.
struct WarpRowsLaunch {
  int threads = 128;
  int64_t blocks = 0;
};
WarpRowsLaunch warpRowsLaunch(int64_t rows);
// The head dimensions the attention kernels hold in registers (a lane keeps 8 values).
constexpr int64_t kAttentionMaxHeadDim = 256;

// adamw_group over every parameter in one launch: each block updates one chunk of one
// parameter; chunks never straddle two parameters.
struct AdamWChunk {
  int32_t param = 0;
  int64_t begin = 0, end = 0;
};
constexpr int64_t kAdamWChunk = 8192;
constexpr int kAdamWThreads = 256;
std::vector<AdamWChunk> adamwChunks(const std::vector<int64_t>& paramSizes, int64_t chunk = kAdamWChunk);

}  // namespace kiln::cuda
