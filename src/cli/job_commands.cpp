// parley jobs …: the job queue on the database directly (the same operations as
// /v1/admin/jobs), for an operator at the console when the server is down or busy.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>

#include "cli/commands.hpp"
#include "jobs/job_queue.hpp"
#include "tenancy/tenancy_service.hpp"

namespace parley::cli {

namespace {

std::string or_dash(const std::optional<std::string>& v) { return v ? *v : "-"; }
std::string time_or_dash(const std::optional<TimeMs>& v) { return v ? format_time(*v) : "-"; }

std::optional<jobs::JobState> state_option(const std::string& s) {
  if (s.empty()) return std::nullopt;
  auto st = jobs::parse_state(s);
  if (!st) throw std::runtime_error("--state must be queued, running or dead");
  return st;
}

void print_job(const jobs::Job& j) {
  std::cout << "id:           " << j.id << "\nkind:         " << j.kind
            << "\nstate:        " << jobs::state_name(j.state) << "\napp_id:       " << or_dash(j.app_id)
            << "\nunique_key:   " << or_dash(j.unique_key) << "\nrun_at:       " << format_time(j.run_at)
            << "\nattempts:     " << j.attempts << " of " << j.max_attempts
            << "\nlease_owner:  " << or_dash(j.lease_owner) << "\nlease_until:  " << time_or_dash(j.lease_until)
            << "\nlast_error:   " << or_dash(j.last_error) << "\ncreated_at:   " << format_time(j.created_at)
            << "\nstarted_at:   " << time_or_dash(j.started_at) << "\npayload:      " << j.payload << "\n";
}

const tenancy::Actor kCli{"cli", std::nullopt};

}  // namespace

void add_jobs_command(CLI::App& root) {
  auto* cmd = root.add_subcommand("jobs", "List, inspect, enqueue, retry and delete background jobs");
  cmd->require_subcommand(1);
  std::shared_ptr<ConfigLoader> loader;

  auto state = std::make_shared<std::string>();
  auto kind = std::make_shared<std::string>();
  auto limit = std::make_shared<int>(50);
  auto* list = sub(*cmd, "list", "Jobs newest first (state, kind, attempts, next run, last error)", loader);
  list->add_option("--state", *state, "queued, running or dead");
  list->add_option("--kind", *kind, "Only jobs of this kind");
  list->add_option("--limit", *limit, "At most this many (1-10000)")->check(CLI::Range(1, 10000));
  list->callback(with_config(loader, [state, kind, limit](const Config& cfg) {
    auto store = open_ready_store(cfg, false);
    jobs::JobQueue q(store->database());
    jobs::JobFilter f;
    f.state = state_option(*state);
    if (!kind->empty()) f.kind = *kind;
    f.limit = *limit;
    std::printf("%-10s %-8s %-24s %-9s %-25s %s\n", "id", "state", "kind", "attempts", "run_at", "last_error");
    for (const auto& j : must(q.list(f), "cannot list jobs")) {
      std::string attempts = std::to_string(j.attempts) + "/" + std::to_string(j.max_attempts);
      std::printf("%-10lld %-8s %-24s %-9s %-25s %s\n", static_cast<long long>(j.id),
                  std::string(jobs::state_name(j.state)).c_str(), j.kind.c_str(), attempts.c_str(),
                  format_time(j.run_at).c_str(), or_dash(j.last_error).substr(0, 80).c_str());
    }
  }));

  auto id = std::make_shared<std::int64_t>(0);
  auto* show = sub(*cmd, "show", "Every field of one job", loader);
  show->add_option("--id", *id, "Job id")->required();
  show->callback(with_config(loader, [id](const Config& cfg) {
    auto store = open_ready_store(cfg, false);
    print_job(must(jobs::JobQueue(store->database()).get(*id), "cannot show the job"));
  }));

  auto payload = std::make_shared<std::string>("{}");
  auto unique_key = std::make_shared<std::string>();
  auto* enqueue = sub(*cmd, "enqueue", "Enqueue a job to run now", loader);
  enqueue->add_option("--kind", *kind, "Job kind")->required();
  enqueue->add_option("--payload", *payload, "A JSON object");
  enqueue->add_option("--unique-key", *unique_key, "Deduplicates against a job of the same kind and key");
  enqueue->callback(with_config(loader, [kind, payload, unique_key](const Config& cfg) {
    auto store = open_ready_store(cfg, false);
    jobs::NewJob job;
    job.kind = *kind;
    job.payload = *payload;
    if (!unique_key->empty()) job.unique_key = *unique_key;
    if (payload->empty() || payload->front() != '{') throw std::runtime_error("--payload must be a JSON object");
    auto e = must(jobs::JobQueue(store->database()).enqueue(job), "cannot enqueue the job");
    std::cout << (e.duplicate ? "already queued: job " : "enqueued: job ") << e.id << "\n";
  }));

  auto* retry = sub(*cmd, "retry", "Run a dead or queued job again now, with fresh attempts", loader);
  retry->add_option("--id", *id, "Job id")->required();
  retry->callback(with_config(loader, [id](const Config& cfg) {
    auto store = open_ready_store(cfg, false);
    auto j = must(jobs::JobQueue(store->database()).retry(*id, now_ms()), "cannot retry the job");
    tenancy::TenancyService t(*store, cfg);
    (void)t.audit_action(kCli, "job.retry", j.app_id, std::to_string(j.id));
    std::cout << "job " << j.id << " queued\n";
  }));

  auto* del = sub(*cmd, "delete", "Delete a queued or dead job", loader);
  del->add_option("--id", *id, "Job id")->required();
  del->callback(with_config(loader, [id](const Config& cfg) {
    auto store = open_ready_store(cfg, false);
    jobs::JobQueue q(store->database());
    auto j = must(q.get(*id), "cannot delete the job");
    must(q.remove(*id), "cannot delete the job");
    tenancy::TenancyService t(*store, cfg);
    (void)t.audit_action(kCli, "job.delete", j.app_id, std::to_string(j.id));
    std::cout << "job " << *id << " deleted\n";
  }));

  auto* purge = sub(*cmd, "purge-dead", "Delete the dead letters (of one kind, or all)", loader);
  purge->add_option("--kind", *kind, "Only dead letters of this kind");
  purge->callback(with_config(loader, [kind](const Config& cfg) {
    auto store = open_ready_store(cfg, false);
    std::optional<std::string> k;
    if (!kind->empty()) k = *kind;
    auto n = must(jobs::JobQueue(store->database()).purge_dead(k), "cannot delete dead letters");
    tenancy::TenancyService t(*store, cfg);
    (void)t.audit_action(kCli, "job.purge_dead", std::nullopt, std::nullopt, "{\"deleted\":" + std::to_string(n) + "}");
    std::cout << "deleted " << n << " dead letter(s)\n";
  }));

  sub(*cmd, "stats", "Counts by state and kind, and the age of the oldest due job", loader)
      ->callback(with_config(loader, [](const Config& cfg) {
        auto store = open_ready_store(cfg, false);
        TimeMs now = now_ms();
        auto s = must(jobs::JobQueue(store->database()).stats(now), "cannot read the queue");
        std::cout << "queued:  " << s.queued << " (" << s.ready << " due)\nrunning: " << s.running
                  << "\ndead:    " << s.dead << "\noldest due job waiting: "
                  << (s.oldest_ready_at ? std::to_string(now - *s.oldest_ready_at) + " ms" : std::string("-")) << "\n";
        for (const auto& k : s.by_kind) {
          std::printf("  %-24s %-8s %lld\n", k.kind.c_str(), std::string(jobs::state_name(k.state)).c_str(),
                      static_cast<long long>(k.count));
        }
      }));

  sub(*cmd, "schedules", "Cron schedules and their next run", loader)
      ->callback(with_config(loader, [](const Config& cfg) {
        auto store = open_ready_store(cfg, false);
        std::printf("%-24s %-20s %-24s %-25s %s\n", "name", "cron", "kind", "next_run_at", "last_run_at");
        for (const auto& s : must(jobs::JobQueue(store->database()).list_schedules(), "cannot list schedules")) {
          std::printf("%-24s %-20s %-24s %-25s %s\n", s.name.c_str(), s.cron.c_str(), s.kind.c_str(),
                      format_time(s.next_run_at).c_str(), time_or_dash(s.last_run_at).c_str());
        }
      }));
}

}  // namespace parley::cli
