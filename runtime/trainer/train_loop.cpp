// The train loop: steps, progress, metrics, evaluation and checkpoints, stopping cleanly on
// SIGINT or SIGTERM (Ctrl-C, docker stop, Slurm, systemd, kill).
#include "runtime/trainer/trainer_session.h"

#include "runtime/checkpoint/output_lock.h"
#include "runtime/parallel/collectives.h"
#include "runtime/trainer/run_description.h"
#include "runtime/trainer/stop_request.h"

namespace kiln {

// Under train.on_divergence = "skip", this many diverged steps in a row end the run: the
// model is not coming back by itself.
constexpr int64_t kMaxConsecutiveSkips = 10;

// ---- train ----
int Trainer::train(const Options& o) {
  // 2^24: the optimizer's step counter (stored in f32 on the cpu device) is exact up to there.
  auto steps = numberOption(o, "steps", double(cfgInt("train.steps")), 1, double(1 << 24));
  if (!steps) return fail(steps.error());
  auto evalEvery = numberOption(o, "eval-every", double(cfgInt("train.eval_every")), 0, 1e9);
  if (!evalEvery) return fail(evalEvery.error());
  auto ckptEvery = numberOption(o, "checkpoint-every", double(cfgInt("train.checkpoint_every")), 0, 1e9);
  if (!ckptEvery) return fail(ckptEvery.error());
  auto logEvery = numberOption(o, "log-every", double(cfgInt("train.log_every")), 1, 1e9);
  if (!logEvery) return fail(logEvery.error());
  std::string ckpt = checkpointPath(o);
  std::string metricsPath = o.get("metrics", cfg("train.metrics"));
  const int64_t totalSteps = int64_t(*steps);
  // Data parallel (under mpirun): every rank trains on its rows of each global batch; rank 0
  // alone writes the checkpoint and the metrics and prints the progress.
  Collectives& ranks = processCollectives();
  const int world = ranks.size(), rank = ranks.rank();
  const bool leader = rank == 0, sampled = cfg("objective") == "reinforce";
  if (world > 1)
    if (auto s = checkSameRun(o); !s) {  // every rank comes to the same verdict
      if (leader) fail(s.error());
      ranks.leaveTogether();  // after rank 0 has said why
      return 1;
    }
  // Every output is checked and locked before any work: a run never trains to the end and then
  // cannot save, and two runs never write the same files.
  // Never onto an input of the run: the program itself, its data, the weights it starts from.
  std::vector<std::unique_ptr<OutputLock>> locks;
  if (leader) {
    std::vector<std::string> inputs = findObjectiveData(cfg("objective"))->inputFiles(cfg_);
    for (const std::string& f : {origin_, trainerFile(), o.get("init-from", cfg("objective.init_from"))}) inputs.push_back(f);
    for (const std::string& f : splitConfigList(cfg("data.files"))) inputs.push_back(f);
    if (auto s = checkNotAnInput(ckpt, "checkpoint", inputs); !s) return fail(s.error());
    inputs.push_back(ckpt);
    if (auto s = checkNotAnInput(metricsPath, "metrics log", inputs); !s) return fail(s.error());
    if (auto s = checkWritable(ckpt, "checkpoint"); !s) return fail(s.error());
    for (const auto& [path, what] : {std::pair{ckpt, "checkpoint"}, std::pair{metricsPath, "metrics log"}}) {
      auto lock = OutputLock::acquire(path, what);
      if (!lock) return fail(lock.error());
      locks.push_back(lock.take());
    }
  }

  auto engine = freshEngine();
  if (!engine) return fail(engine.error());
  Engine& st = **engine;
  int64_t step = 0;
  if (o.has("init-from") && o.has("resume")) return fail(makeError({}, "--init-from and --resume exclude each other"));
  // A fresh run starts from --init-from, else from the spec's objective.init_from.
  std::string initPath = o.get("init-from", o.has("resume") ? "" : cfg("objective.init_from"));
  initialPolicy_ = o.get("init-from", cfg("objective.init_from"));  // REINFORCE's KL reference
  if (!initPath.empty())
    if (auto s = initFrom(st, initPath); !s) return fail(s.error());
  std::map<std::string, std::string> resumedMeta;
  if (o.has("resume")) {
    auto loaded = loadCheckpoint(st, ckpt, /*full=*/true, &resumedMeta);
    if (!loaded) return fail(loaded.error());
    step = *loaded;
    if (leader) std::cerr << "resumed from " << ckpt << " at step " << step << "\n";
    if (step >= totalSteps) {
      if (leader) std::cerr << "nothing to do: the checkpoint is at step " << step << " of " << totalSteps << "\n";
      return 0;
    }
  }
  auto source = dataSource(&st, world, rank);
  if (!source) return fail(source.error());
  if (auto s = (*source)->restoreState(resumedMeta); !s) return fail(s.error());
  // Every rank evaluates the compiled batch, as one process would (the global batch's source
  // has other rows).
  std::unique_ptr<BatchSource> ownEval;
  if (world > 1 && !sampled) {
    auto e = dataSource(&st);
    if (!e) return fail(e.error());
    ownEval = e.take();
  }
  const BatchSource& evalSource = ownEval ? *ownEval : **source;
  auto metrics = MetricsLog::open(leader ? metricsPath : "/dev/null", o.has("resume"));
  if (!metrics) return fail(metrics.error());
  const int64_t tokensPerStep = (*source)->tokensPerStep() * (sampled ? world : 1);
  const std::string ranksLine = world > 1 ? ranks.describe() : "";  // every rank takes part
  if (leader) {
    std::cerr << (*source)->describe() << "\n"
              << "model: " << cfg("model.parameters") << " parameters, " << cfgNumber("model.flops_per_step") / 1e9
              << " GFLOP per step" << (world > 1 ? " per rank, " : ", ") << tokensPerStep << " tokens per step\n"
              << "device: " << device_ << " on " << describeDevice(device_, deviceInputs()) << "\n";
    // Beside a metrics file (not /dev/null); a report without it lacks the spec and baselines,
    // which is no reason to stop a run.
    if (std::filesystem::is_regular_file(metricsPath))
      if (auto s = describeRun(metricsPath, **source, world, tokensPerStep, step); !s)
        std::cerr << "warning: " << s.error().str() << " (kiln report will show the metrics only)\n";
    if (world > 1)
      std::cerr << "data parallel: " << ranksLine << "; global batch " << cfgInt("model.batch") * world << " ("
                << cfg("model.batch") << " per rank), gradients averaged in the step\n";
  }
  // train_step's outputs: the loss, any metrics of the objective, then lr and grad_norm.
  const Function& trainFn = *m_.findFunction("train_step");
  auto outputIndex = [&](const std::string& n) {
    auto it = std::find(trainFn.outputNames.begin(), trainFn.outputNames.end(), n);
    return size_t(it - trainFn.outputNames.begin());
  };
  const size_t lossAt = outputIndex("loss"), lrAt = outputIndex("lr"), normAt = outputIndex("grad_norm");
  if (lossAt == trainFn.outputNames.size() || lrAt == trainFn.outputNames.size() || normAt == trainFn.outputNames.size())
    return fail(makeError({}, "damaged executable: train_step lacks loss, lr or grad_norm"));

  if (o.has("profile")) st.setProfiling(true);
  StopRequests stopRequests;  // the previous signal handlers come back on every path out
  const bool tty = ::isatty(STDERR_FILENO);
  auto start = std::chrono::steady_clock::now();
  int64_t firstStep = step;
  double loss = 0;
  int rc = 0;
  const bool skipDiverged = cfg("train.on_divergence") == "skip";
  const bool canEvaluate = (*source)->evalBatches(cfgInt("train.eval_batches")) > 0;
  if (!canEvaluate) std::cerr << "no validation split (data.val_fraction = 0): the run is not evaluated\n";
  int64_t skippedSteps = 0, consecutiveSkips = 0, lastSaved = o.has("resume") ? step : -1;
  // What a run that stops unsaved leaves behind.
  auto keptCheckpoint = [&] {
    return lastSaved >= 0 ? "the checkpoint of step " + std::to_string(lastSaved) + " in " + ckpt + " is kept"
                          : std::string("no checkpoint was written");
  };
  while (step < totalSteps) {
    ++step;
    auto batch = (*source)->train(uint64_t(step));
    if (!batch) return fail(batch.error());
    std::vector<ref::Tensor> inputs = batch.take();
    if (world > 1 && !sampled) inputs = shardRows(std::move(inputs), cfgInt("model.batch"), rank, world);
    auto callStart = std::chrono::steady_clock::now();
    auto outs = call(st, "train_step", std::move(inputs));
    double stepSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - callStart).count();
    if (!outs) return fail(outs.error());
    const int stopSignal = stopRequests.agree(ranks);  // a signal to any rank stops every rank after this step
    loss = (*outs)[lossAt][0];
    double lr = (*outs)[lrAt][0], gnorm = (*outs)[normAt][0];
    std::string extraText;  // the objective's metrics (accuracies, rewards)
    std::vector<std::pair<std::string, double>> stepMetrics = (*source)->trainMetrics();
    for (size_t i = 0; i < outs->size(); ++i)
      if (i != lossAt && i != lrAt && i != normAt) stepMetrics.emplace_back(trainFn.outputNames[i], (*outs)[i][0]);
    for (const auto& [name, value] : stepMetrics) {
      char buf[64];
      std::snprintf(buf, sizeof buf, " %s %.3f", name.c_str(), value);
      extraText += buf;
    }
    // Divergence: a loss or gradient norm that is not finite. Under "skip" the compiled step
    // has left the state as it was; under "stop" the state is abandoned unsaved.
    const bool diverged = !std::isfinite(loss) || !std::isfinite(gnorm);
    if (diverged) {
      MetricsLog::Fields bad = {{"step", step}, {"loss", loss}, {"grad_norm", gnorm}, {"diverged", int64_t(1)},
                                 {"skipped", int64_t(skipDiverged && consecutiveSkips < kMaxConsecutiveSkips)}};
      if (auto s = metrics->write(bad); !s) return fail(s.error());
      if (skipDiverged && ++consecutiveSkips <= kMaxConsecutiveSkips) {
        ++skippedSteps;
        if (leader) std::fprintf(stderr, "%sstep %lld skipped: loss %s, grad_norm %s; the update was not applied\n", tty ? "\n" : "",
                     (long long)step, formatDouble(loss).c_str(), formatDouble(gnorm).c_str());
      } else if (!leader) {
        rc = 1;
        break;
      } else {
        std::fprintf(stderr, "%serror: training diverged at step %lld: loss %s, grad_norm %s. This state is not saved; %s.\n",
                     tty ? "\n" : "", (long long)step, formatDouble(loss).c_str(), formatDouble(gnorm).c_str(),
                     keptCheckpoint().c_str());
        std::fprintf(stderr, "%s\n", skipDiverged ? ("more than " + std::to_string(kMaxConsecutiveSkips) +
                                                      " steps in a row diverged; lower optimizer.lr or set optimizer.clip_norm").c_str()
                                                   : "lower optimizer.lr, set optimizer.clip_norm, or set train.on_divergence = \"skip\" "
                                                     "to skip such steps");
        rc = 1;
        break;
      }
    } else {
      consecutiveSkips = 0;
    }
    double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    double tokPerSec = double((step - firstStep) * tokensPerStep) / std::max(elapsed, 1e-9);
    double eta = elapsed / double(step - firstStep) * double(totalSteps - step);
    MetricsLog::Fields line = {{"step", step}, {"loss", loss}, {"lr", lr}, {"grad_norm", gnorm},
                               {"step_s", stepSeconds}, {"tokens_per_s", tokPerSec}};
    for (const auto& [name, value] : stepMetrics) line.emplace_back(name, value);
    if (!diverged)
      if (auto s = metrics->write(line); !s) return fail(s.error());
    if (tty && !diverged && leader) {
      int width = 24, filled = int(double(width) * double(step) / double(totalSteps));
      std::fprintf(stderr, "\rstep %lld/%lld [%s%s] loss %.4f | %.0f tok/s | ETA %s   ", (long long)step,
                   (long long)totalSteps, std::string(size_t(filled), '#').c_str(),
                   std::string(size_t(width - filled), '.').c_str(), loss, tokPerSec, formatDuration(eta).c_str());
    }
    if (!tty && !diverged && leader && (step % int64_t(*logEvery) == 0 || step == totalSteps))
      std::fprintf(stderr, "step %lld/%lld loss %.4f%s lr %.3g grad_norm %.3f tok/s %.0f eta %s\n", (long long)step,
                   (long long)totalSteps, loss, extraText.c_str(), lr, gnorm, tokPerSec, formatDuration(eta).c_str());
    bool evalNow = canEvaluate && ((*evalEvery > 0 && step % int64_t(*evalEvery) == 0) || step == totalSteps);
    if (evalNow) {
      auto v = evaluate(evalSource, st, cfgInt("train.eval_batches"));
      if (!v) return fail(v.error());
      for (const auto& [name, x] : *v)
        if (!std::isfinite(x)) {
          if (!leader) return 1;
          std::fprintf(stderr, "%serror: training diverged at step %lld: the evaluation's %s is %s. This state is not saved; %s.\n",
                       tty ? "\n" : "", (long long)step, name.c_str(), formatDouble(x).c_str(),
                       keptCheckpoint().c_str());
          return 1;
        }
      MetricsLog::Fields line = {{"step", step}};
      for (const auto& [name, x] : *v) line.emplace_back(name, x);
      if (auto s = metrics->write(line); !s) return fail(s.error());
      if (leader) std::fprintf(stderr, "%sstep %lld: %s\n", tty ? "\n" : "", (long long)step, describeEval(*v, evalSource).c_str());
    }
    bool saveNow = (*ckptEvery > 0 && step % int64_t(*ckptEvery) == 0) || step == totalSteps || stopSignal;
    // ZeRO-1: rank 0's checkpoint writer gathers each sharded moment from every rank as it
    // writes it (one at a time, in name order); the other ranks send theirs in that order.
    if (saveNow && !leader)
      for (const std::string& name : st.shardedStates()) (void)st.stateTensor(name);
    if (saveNow && leader) {
      if (auto s = saveCheckpoint(st, step, ckpt, (*source)->checkpointState()); !s) {
        std::fprintf(stderr, "%s%s\n", tty ? "\n" : "", s.error().str().c_str());
        if (lastSaved >= 0) std::fprintf(stderr, "the checkpoint of step %lld is kept\n", (long long)lastSaved);
        return 1;
      }
      if (stopSignal || step != totalSteps) std::fprintf(stderr, "%ssaved %s at step %lld\n", tty ? "\n" : "", ckpt.c_str(), (long long)step);
    }
    if (saveNow) lastSaved = step;
    if (stopSignal) {
      if (leader) std::fprintf(stderr, "%s: checkpoint saved at step %lld\n", stopSignal == SIGTERM ? "terminated (SIGTERM)" : "interrupted",
                   (long long)step);
      rc = 128 + stopSignal;  // 130 for SIGINT, 143 for SIGTERM
      break;
    }
  }
  if (o.has("profile") && leader) printProfile(st);
  if (world > 1) ranks.leaveTogether();  // after rank 0 has saved
  if (!leader) return rc;
  if (rc == 0) std::fprintf(stderr, "%sdone: %lld steps, final loss %.4f, checkpoint %s\n", tty ? "\n" : "", (long long)step, loss, ckpt.c_str());
  if (skippedSteps > 0) std::fprintf(stderr, "%lld step(s) diverged and were skipped\n", (long long)skippedSteps);
  return rc;
}

void Trainer::printProfile(const Engine& e) {
  auto kinds = e.profileByKind();
  if (kinds.empty()) {
    std::cerr << "profile: the " << e.device() << " device does not profile\n";
    return;
  }
  double total = 0;
  for (const auto& k : kinds) total += k.seconds;
  auto table = [&](const char* title, const std::vector<Engine::ProfileEntry>& rows) {
    std::fprintf(stderr, "%s (of %.3f s in ops):\n", title, total);
    for (size_t i = 0; i < rows.size() && i < 25; ++i) {
      // Matmuls and attention also show their rate (cost-model FLOPs over measured time).
      char rate[32] = "";
      if (rows[i].flops > 0 && rows[i].seconds > 0)
        std::snprintf(rate, sizeof rate, "%6.0f GFLOP/s", rows[i].flops / rows[i].seconds / 1e9);
      std::fprintf(stderr, "  %10.3f s %5.1f%% %8lld calls %14s  %s\n", rows[i].seconds, 100 * rows[i].seconds / total,
                   (long long)rows[i].calls, rate, rows[i].key.c_str());
    }
  };
  table("time by op kind", kinds);
  table("time by model component", e.profileByComponent());
}

}  // namespace kiln
