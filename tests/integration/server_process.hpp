#pragma once
// Child processes of the real parley binary: a server started on an ephemeral loopback port
// with a fresh data folder (ServerProcess), and one-shot CLI commands (run_parley). Their
// stdout and stderr are drained on threads so a chatty child never blocks on a full pipe.
#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace parley::test {

using namespace std::chrono_literals;

using EnvVars = std::vector<std::pair<std::string, std::string>>;

/// A fresh folder under the system temp folder, removed (with its contents) on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string str() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

/// A running child process with its output captured. Killed (SIGKILL) on destruction.
class ChildProcess {
 public:
  /// Starts `argv` (argv[0] is the program path). The child's environment is ours without
  /// any PARLEY_* variable (tests are hermetic), plus `env`. stdin is /dev/null.
  ChildProcess(const std::vector<std::string>& argv, const EnvVars& env);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  std::string out() const;
  std::string err() const;

  /// Waits until stdout contains `needle` (true), the child closes stdout, or the timeout passes.
  bool wait_for_output(const std::string& needle, std::chrono::milliseconds timeout);
  /// Waits until stdout grows beyond `known_size` bytes, reaches EOF, or the timeout passes.
  void wait_for_more_output(std::size_t known_size, std::chrono::milliseconds timeout);
  /// Sends a signal; no effect once reaped.
  void signal(int sig);
  /// Waits for the child to exit: its exit code, or 128 + signal number when killed by a
  /// signal; nullopt when it is still running after `timeout`.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  bool running();

 private:
  struct Stream {
    int fd = -1;
    std::string text;
    bool eof = false;
    std::thread reader;
  };
  void drain(Stream& s);

  pid_t pid_ = -1;
  std::optional<int> status_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  Stream out_, err_;
};

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

/// Runs `parley <args…>` to completion (at most `timeout`, then it is killed and the test fails).
CommandResult run_parley(const std::vector<std::string>& args, const EnvVars& env = {},
                         std::chrono::milliseconds timeout = 30s);

/// A `parley serve` child on 127.0.0.1 with port 0. Starts in the constructor and returns once
/// the server printed `parley listening on http://127.0.0.1:<port>`; throws when it does not.
class ServerProcess {
 public:
  static constexpr const char* kAdminKey = "adm_integration_test_key";

  struct Options {
    /// serve flags without dashes; defaults: host, port, admin-key, demo, log-level, web-dir (off:
    /// unknown paths answer 404 instead of the web app's index, whatever is built in the tree).
    /// data-dir is added unless given here or via data_dir. Erase a key to leave a flag out.
    std::map<std::string, std::string> flags{{"host", "127.0.0.1"}, {"port", "0"},         {"admin-key", kAdminKey},
                                             {"demo", "false"},     {"log-level", "warn"}, {"web-dir", "off"}};
    std::vector<std::string> extra_args;  // appended after the flags
    EnvVars env;
    std::filesystem::path data_dir;  // empty: a fresh temporary folder owned by the server
    bool expect_listening = true;    // false: do not wait for (or require) the listening line

    /// Serve from this (existing or new) data folder instead of a fresh temporary one.
    Options& in(const std::filesystem::path& dir) {
      data_dir = dir;
      return *this;
    }
    Options& flag(const std::string& name, const std::string& value) {
      flags[name] = value;
      return *this;
    }
    Options& without(const std::string& name) {
      flags.erase(name);
      return *this;
    }
    Options& with_env(const std::string& name, const std::string& value) {
      env.emplace_back(name, value);
      return *this;
    }
  };

  ServerProcess();
  explicit ServerProcess(Options opts);
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  std::uint16_t port() const { return port_; }
  const std::filesystem::path& data_dir() const { return data_dir_; }
  std::filesystem::path db_path() const { return data_dir_ / "parley.db"; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  std::string out() const { return child_->out(); }
  std::string err() const { return child_->err(); }
  ChildProcess& child() { return *child_; }

  /// Sends SIGTERM and waits (up to `timeout`) for exit; returns the exit status
  /// (128 + signal when killed by one). SIGKILLs and returns nullopt on timeout.
  std::optional<int> stop(std::chrono::milliseconds timeout = 10s);
  /// Waits for the process to exit by itself (e.g. after a failed start).
  std::optional<int> wait_exit(std::chrono::milliseconds timeout = 10s) { return child_->wait(timeout); }

 private:
  std::unique_ptr<TempDir> owned_dir_;
  std::filesystem::path data_dir_;
  std::unique_ptr<ChildProcess> child_;
  std::uint16_t port_ = 0;
};

/// A TCP port that was free a moment ago (bind to port 0, read it, close).
std::uint16_t free_port();

// ---- PostgreSQL runs -------------------------------------------------------------------------
// With PARLEY_TEST_PG_URL set to the URL of a maintenance database (for example
// postgres://postgres@127.0.0.1:5432/postgres), the suite runs against PostgreSQL: each data
// folder a server or CLI command uses gets its own fresh database (parley_it_<random>), passed
// as --database-url unless the test names a database itself, and dropped with its TempDir.

/// The maintenance database URL when the suite runs against PostgreSQL; nullopt on SQLite.
const std::optional<std::string>& pg_test_url();
inline bool on_postgres() { return pg_test_url().has_value(); }
/// The URL of the PostgreSQL database standing for data folder `dir`, created on first use.
/// Only on_postgres().
std::string pg_database_for(const std::filesystem::path& dir);
/// The PostgreSQL database URL already standing for `dir`, if any.
std::optional<std::string> pg_database_of(const std::filesystem::path& dir);

}  // namespace parley::test
