#include "server_process.hpp"

#include <fcntl.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <regex>
#include <stdexcept>

#include "store/postgres/pg_url.hpp"

extern char** environ;

namespace parley::test {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// The exit code scripts/test-sanitizers.sh gives the sanitizers (exitcode=66 in *SAN_OPTIONS).
constexpr int kSanitizerExitCode = 66;

namespace {

// ---- PostgreSQL databases standing for data folders --------------------------------------------

std::mutex pg_mu;
std::map<std::string, std::string> pg_urls;  // data folder -> database URL; guarded by pg_mu

std::string dir_key(const fs::path& dir) {
  std::string s = dir.lexically_normal().string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

// Runs one statement on the maintenance database (CREATE/DROP DATABASE cannot be parameters).
void pg_admin(const std::string& sql) {
  PGconn* c = PQconnectdb(pg_test_url()->c_str());
  if (PQstatus(c) != CONNECTION_OK) {
    std::string msg = PQerrorMessage(c);
    PQfinish(c);
    throw std::runtime_error("PARLEY_TEST_PG_URL: cannot connect: " + msg);
  }
  PGresult* r = PQexec(c, sql.c_str());
  bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
  std::string msg = ok ? "" : PQresultErrorMessage(r);
  PQclear(r);
  PQfinish(c);
  if (!ok) throw std::runtime_error(sql + ": " + msg);
}

std::string database_name(const std::string& url) {
  auto start = url.find("://");
  auto slash = url.find('/', start == std::string::npos ? 0 : start + 3);
  auto query = url.find('?');
  return url.substr(slash + 1, query == std::string::npos ? std::string::npos : query - slash - 1);
}

void drop_pg_database(const fs::path& dir) {
  std::string url;
  {
    std::lock_guard lock(pg_mu);
    auto it = pg_urls.find(dir_key(dir));
    if (it == pg_urls.end()) return;
    url = it->second;
    pg_urls.erase(it);
  }
  pg_admin("DROP DATABASE IF EXISTS \"" + database_name(url) + "\" WITH (FORCE)");
}

}  // namespace

const std::optional<std::string>& pg_test_url() {
  static const std::optional<std::string> url = []() -> std::optional<std::string> {
    const char* v = std::getenv("PARLEY_TEST_PG_URL");
    if (!v || !*v) return std::nullopt;
    return std::string(v);
  }();
  return url;
}

std::optional<std::string> pg_database_of(const fs::path& dir) {
  std::lock_guard lock(pg_mu);
  auto it = pg_urls.find(dir_key(dir));
  if (it == pg_urls.end()) return std::nullopt;
  return it->second;
}

std::string pg_database_for(const fs::path& dir) {
  if (!on_postgres()) throw std::logic_error("pg_database_for without PARLEY_TEST_PG_URL");
  std::lock_guard lock(pg_mu);
  auto key = dir_key(dir);
  if (auto it = pg_urls.find(key); it != pg_urls.end()) return it->second;
  static const char kChars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::random_device rd;
  std::string name = "parley_it_";
  for (int i = 0; i < 16; ++i) name.push_back(kChars[rd() % (sizeof kChars - 1)]);
  pg_admin("CREATE DATABASE \"" + name + "\"");
  auto url = store::postgres::url_with_database(*pg_test_url(), name);
  pg_urls.emplace(key, url);
  return url;
}

TempDir::TempDir() {
  std::string tmpl = (fs::temp_directory_path() / "parley-it-XXXXXX").string();
  if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed: " + std::string(std::strerror(errno)));
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
  try {
    drop_pg_database(path_);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "warning: %s\n", e.what());
  }
}

ChildProcess::ChildProcess(const std::vector<std::string>& argv, const EnvVars& env) {
  // Everything the child needs is built before spawning.
  std::vector<std::string> env_text;
  for (char** e = environ; *e; ++e) {
    if (std::strncmp(*e, "PARLEY_", 7) != 0) env_text.emplace_back(*e);
  }
  for (const auto& [k, v] : env) env_text.push_back(k + "=" + v);
  std::vector<char*> envp, args;
  for (auto& s : env_text) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_copy = argv;
  for (auto& s : argv_copy) args.push_back(s.data());
  args.push_back(nullptr);

  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) {
    throw std::runtime_error("pipe2 failed: " + std::string(std::strerror(errno)));
  }
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed: " + std::string(std::strerror(errno)));
  if (pid == 0) {
    // The child: only async-signal-safe calls until exec. It dies with the test process, even
    // when that one crashes, so no server outlives its test.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (in < 0 || dup2(in, 0) < 0 || dup2(out_pipe[1], 1) < 0 || dup2(err_pipe[1], 2) < 0) _exit(127);
    execve(args[0], args.data(), envp.data());
    _exit(127);
  }
  pid_ = pid;
  close(out_pipe[1]);
  close(err_pipe[1]);
  out_.fd = out_pipe[0];
  err_.fd = err_pipe[0];
  out_.reader = std::thread([this] { drain(out_); });
  err_.reader = std::thread([this] { drain(err_); });
}

ChildProcess::~ChildProcess() {
  if (!status_) {
    signal(SIGKILL);
    (void)wait(10s);
  }
  for (Stream* s : {&out_, &err_}) {
    if (s->reader.joinable()) s->reader.join();
    close(s->fd);
  }
}

void ChildProcess::drain(Stream& s) {
  char buf[4096];
  for (;;) {
    ssize_t n = read(s.fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    std::lock_guard lock(mu_);
    if (n <= 0) {
      s.eof = true;
      cv_.notify_all();
      return;
    }
    s.text.append(buf, static_cast<std::size_t>(n));
    cv_.notify_all();
  }
}

std::string ChildProcess::out() const {
  std::lock_guard lock(mu_);
  return out_.text;
}

std::string ChildProcess::err() const {
  std::lock_guard lock(mu_);
  return err_.text;
}

bool ChildProcess::wait_for_output(const std::string& needle, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return out_.text.find(needle) != std::string::npos || out_.eof; });
  return out_.text.find(needle) != std::string::npos;
}

void ChildProcess::wait_for_more_output(std::size_t known_size, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return out_.text.size() > known_size || out_.eof; });
}

void ChildProcess::signal(int sig) {
  if (!status_ && pid_ > 0) kill(pid_, sig);
}

std::optional<int> ChildProcess::wait(std::chrono::milliseconds timeout) {
  if (status_) return status_;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int st = 0;
    pid_t r = waitpid(pid_, &st, WNOHANG);
    if (r == pid_) {
      status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      // The child is gone: its pipes reach EOF once the readers have drained them.
      for (Stream* s : {&out_, &err_}) {
        if (s->reader.joinable()) s->reader.join();
      }
      return status_;
    }
    if (r < 0 && errno != EINTR) throw std::runtime_error("waitpid failed: " + std::string(std::strerror(errno)));
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(2ms);
  }
}

bool ChildProcess::running() {
  if (status_) return false;
  return !wait(0ms).has_value();
}

CommandResult run_parley(const std::vector<std::string>& args, const EnvVars& env, std::chrono::milliseconds timeout) {
  std::vector<std::string> argv{PARLEY_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  if (on_postgres()) {
    // A command on a data folder works on that folder's PostgreSQL database.
    std::optional<std::string> dir;
    bool named = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
      if (args[i] == "--data-dir" && i + 1 < args.size()) dir = args[i + 1];
      named = named || args[i] == "--database-url";
    }
    if (dir && !named) {
      argv.push_back("--database-url");
      argv.push_back(pg_database_for(*dir));
    }
  }
  ChildProcess child(argv, env);
  auto code = child.wait(timeout);
  if (!code) {
    child.signal(SIGKILL);
    (void)child.wait(10s);
    throw std::runtime_error("parley command did not finish in time; stderr: " + child.err());
  }
  return {*code, child.out(), child.err()};
}

ServerProcess::ServerProcess() : ServerProcess(Options{}) {}

ServerProcess::ServerProcess(Options opts) {
  if (opts.data_dir.empty() && !opts.flags.contains("data-dir")) {
    owned_dir_ = std::make_unique<TempDir>();
    data_dir_ = owned_dir_->path();
  } else {
    data_dir_ = opts.data_dir.empty() ? fs::path(opts.flags["data-dir"]) : opts.data_dir;
  }
  if (!opts.flags.contains("data-dir")) opts.flags["data-dir"] = data_dir_.string();
  bool url_in_env = false;
  for (const auto& [k, v] : opts.env) url_in_env = url_in_env || k == "PARLEY_DATABASE_URL";
  if (on_postgres() && !opts.flags.contains("database-url") && !url_in_env) {
    opts.flags["database-url"] = pg_database_for(data_dir_);
  }

  std::vector<std::string> argv{PARLEY_BINARY, "serve"};
  for (const auto& [name, value] : opts.flags) {
    argv.push_back("--" + name);
    argv.push_back(value);
  }
  argv.insert(argv.end(), opts.extra_args.begin(), opts.extra_args.end());
  child_ = std::make_unique<ChildProcess>(argv, opts.env);
  if (!opts.expect_listening) return;

  // The line is complete once its newline arrived.
  auto deadline = std::chrono::steady_clock::now() + 15s;
  std::smatch m;
  static const std::regex kLine(R"(parley listening on http://[^\s:]+:(\d+)\n)");
  for (;;) {
    std::string text = child_->out();
    if (std::regex_search(text, m, kLine)) {
      port_ = static_cast<std::uint16_t>(std::stoi(m[1].str()));
      return;
    }
    if (!child_->running() || std::chrono::steady_clock::now() >= deadline) {
      auto code = child_->wait(1s);
      throw std::runtime_error("parley serve did not start (exit " + (code ? std::to_string(*code) : "?") +
                               ")\nstdout:\n" + child_->out() + "\nstderr:\n" + child_->err());
    }
    child_->wait_for_more_output(text.size(), 20ms);
  }
}

ServerProcess::~ServerProcess() {
  // Under a sanitizer (scripts/test-sanitizers.sh sets PARLEY_TEST_SANITIZER), the server stops
  // with SIGTERM so that what the sanitizer found surfaces as its exit code (66) and report.
  if (std::getenv("PARLEY_TEST_SANITIZER") && child_ && child_->running()) {
    auto code = stop(20s);
    if (code && *code == kSanitizerExitCode) {
      ADD_FAILURE() << "the sanitizer reported an error in parley serve:\n" << child_->err();
    }
  }
  child_.reset();  // SIGKILL if still running, before the data folder goes away
}

std::optional<int> ServerProcess::stop(std::chrono::milliseconds timeout) {
  child_->signal(SIGTERM);
  auto code = child_->wait(timeout);
  if (!code) {
    child_->signal(SIGKILL);
    (void)child_->wait(10s);
  }
  return code;
}

std::uint16_t free_port() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    throw std::runtime_error("bind failed");
  }
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

}  // namespace parley::test
