// The cuda kernels' launch choices, decided on the host: checked here, where no GPU runs them.
#include <doctest/doctest.h>

#include "targets/cuda/launch_config.h"

namespace kiln {

TEST_CASE("cuda launch: row kernels use whole warps, at most 1024 threads, one block per row") {
  for (int64_t cols : {1, 5, 31, 33, 768, 4096, 4099, 50257}) {
    const cuda::RowLaunch l = cuda::rowLaunch(7, cols);
    CHECK(l.threads % 32 == 0);
    CHECK(l.threads >= 32);
    CHECK(l.threads <= 1024);
    CHECK(l.blocks == 7);
    CHECK(l.sharedBytes == size_t(l.threads / 32) * sizeof(float));
    if (cols <= 4096) CHECK(int64_t(l.threads) * 4 >= cols);  // every element within four per thread
  }
  CHECK(cuda::rowLaunch(3, 768).threads == 192);
  CHECK(cuda::rowLaunch(0, 768).blocks == 0);
}

TEST_CASE("cuda launch: layer_norm_grad's column sums cover every row once, no empty slice") {
  for (int64_t rows : {1, 31, 32, 33, 1000, 16384})
    for (int64_t cols : {1, 33, 768}) {
      const cuda::ColumnSumLaunch l = cuda::columnSumLaunch(rows, cols);
      CHECK(l.columnTiles * l.tileCols >= cols);
      CHECK(l.splits >= 1);
      CHECK(l.splits * l.rowsPerSplit >= rows);
      CHECK((l.splits - 1) * l.rowsPerSplit < rows);
      CHECK(l.workspaceFloats == size_t(2 * l.splits * cols + 2 * rows));
    }
  // A GPT-2 batch (16 x 1024 rows of 768) fills the GPU: 24 column tiles x 43 slices.
  const cuda::ColumnSumLaunch big = cuda::columnSumLaunch(16384, 768);
  CHECK(big.columnTiles * big.splits >= 1000);
}

TEST_CASE("cuda launch: adamw chunks tile each parameter and never straddle two") {
  const auto chunks = cuda::adamwChunks({5, 2 * cuda::kAdamWChunk + 3, 0, 1});
  REQUIRE(chunks.size() == 5);
  CHECK(chunks[0].param == 0);
  CHECK(chunks[0].end == 5);
  CHECK(chunks[1].param == 1);
  CHECK(chunks[2].begin == cuda::kAdamWChunk);
  CHECK(chunks[3].end == 2 * cuda::kAdamWChunk + 3);
  CHECK(chunks[4].param == 3);  // the empty parameter has none
  CHECK(chunks[4].end - chunks[4].begin == 1);
}

}  // namespace kiln

namespace kiln {

TEST_CASE("cuda launch: one warp per attention row, every row covered") {
  for (int64_t rows : {1, 3, 4, 5, 4096, 4097}) {
    const cuda::WarpRowsLaunch l = cuda::warpRowsLaunch(rows);
    CHECK(l.threads % 32 == 0);
    CHECK(l.blocks * (l.threads / 32) >= rows);
    CHECK((l.blocks - 1) * (l.threads / 32) < rows);
  }
  CHECK(cuda::warpRowsLaunch(0).blocks == 0);
}

}  // namespace kiln
