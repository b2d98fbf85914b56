#include "core/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <thread>

namespace cordon {
namespace {

using Clock = std::chrono::steady_clock;

std::string ErrnoText(int err) { return std::strerror(err); }

// Owned strings and the NULL-terminated char* array that posix_spawn wants.
class CStringArray {
 public:
  explicit CStringArray(std::vector<std::string> strings) : storage_(std::move(strings)) {
    for (auto& s : storage_) pointers_.push_back(s.data());
    pointers_.push_back(nullptr);
  }
  char** get() { return pointers_.data(); }

 private:
  std::vector<std::string> storage_;
  std::vector<char*> pointers_;
};
using Argv = CStringArray;

// What a child takes from the caller's environment: where to find programs,
// how to print text and times, where to put temporary files, and the sanitizer
// runtimes' options (so that a sanitized test run checks its children the same
// way). None of them holds a secret.
constexpr std::array<const char*, 10> kInherited = {
    "PATH",   "LANG",         "LC_ALL",        "LC_CTYPE",      "TZ",
    "TMPDIR", "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "TSAN_OPTIONS",
};
constexpr std::string_view kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// The child's environment as "KEY=value" strings: the inherited few with `extra` applied.
std::vector<std::string> ChildEnvironment(const EnvVars& extra) {
  std::map<std::string, std::string> vars;
  for (const char* name : kInherited)
    if (const char* value = std::getenv(name); value != nullptr) vars[name] = value;
  if (vars["PATH"].empty()) vars["PATH"] = kDefaultPath;
  for (const auto& [k, v] : extra) vars[k] = v;
  std::vector<std::string> out;
  out.reserve(vars.size());
  for (const auto& [k, v] : vars) out.push_back(k + "=" + v);
  return out;
}

// RAII for posix_spawn's two attribute objects.
struct SpawnAttrs {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  SpawnAttrs() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
  }
  ~SpawnAttrs() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
  SpawnAttrs(const SpawnAttrs&) = delete;
  SpawnAttrs& operator=(const SpawnAttrs&) = delete;
};

void CloseFd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

ExitStatus FromWaitStatus(int wstatus) {
  ExitStatus s;
  if (WIFEXITED(wstatus)) s.exit_code = WEXITSTATUS(wstatus);
  if (WIFSIGNALED(wstatus)) s.term_signal = WTERMSIG(wstatus);
  return s;
}

Result<pid_t> SpawnChild(const std::vector<std::string>& args, const EnvVars& env, const std::string& cwd,
                         SpawnAttrs& sa, short flags) {
  if (args.empty() || args[0].empty()) return Fail(Error::InvalidArgument("no program to run"));
  if (!cwd.empty()) posix_spawn_file_actions_addchdir_np(&sa.actions, cwd.c_str());
  // Descriptors the caller did not mark close-on-exec (e.g. a test runner's
  // pipes) must not leak: a long-lived child holding them keeps readers waiting.
  posix_spawn_file_actions_addclosefrom_np(&sa.actions, 3);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  sigaddset(&defaults, SIGTERM);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGCHLD);
  posix_spawnattr_setsigdefault(&sa.attr, &defaults);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&sa.attr, &none);
  posix_spawnattr_setflags(&sa.attr, static_cast<short>(flags | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK));
  Argv argv(args);
  CStringArray envp(ChildEnvironment(env));
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, args[0].c_str(), &sa.actions, &sa.attr, argv.get(), envp.get());
  if (rc != 0) return Fail(Error::Internal("cannot start " + args[0] + ": " + ErrnoText(rc)));
  return pid;
}

// Waits for `pid` until `deadline`; nullopt if it is still running then.
std::optional<ExitStatus> WaitChildUntil(pid_t pid, Clock::time_point deadline) {
  auto pause = std::chrono::milliseconds(1);
  for (;;) {
    int wstatus = 0;
    const pid_t r = ::waitpid(pid, &wstatus, WNOHANG);
    if (r == pid) return FromWaitStatus(wstatus);
    if (r < 0 && errno != EINTR) return ExitStatus{};  // not our child any more: treat as gone
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(50));
  }
}

}  // namespace

std::string RunResult::Describe() const {
  if (timed_out) return "timed out";
  if (term_signal != 0) return "signal " + std::to_string(term_signal);
  return "exit " + std::to_string(exit_code);
}

Result<RunResult> RunProgram(const RunOptions& options) {
  int in_pipe[2] = {-1, -1};
  int out_pipe[2] = {-1, -1};
  int err_pipe[2] = {-1, -1};
  auto close_all = [&] {
    for (int* p : {in_pipe, out_pipe, err_pipe}) {
      CloseFd(p[0]);
      CloseFd(p[1]);
    }
  };
  if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0 ||
      (options.stdin_text && ::pipe2(in_pipe, O_CLOEXEC) != 0)) {
    const int err = errno;
    close_all();
    return Fail(Error::Internal("cannot create pipes: " + ErrnoText(err)));
  }

  SpawnAttrs sa;
  if (options.stdin_text) {
    posix_spawn_file_actions_adddup2(&sa.actions, in_pipe[0], STDIN_FILENO);
  } else {
    posix_spawn_file_actions_addopen(&sa.actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  }
  posix_spawn_file_actions_adddup2(&sa.actions, out_pipe[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&sa.actions, err_pipe[1], STDERR_FILENO);
  // Its own process group, so that a timeout also kills what it started.
  posix_spawnattr_setpgroup(&sa.attr, 0);
  auto pid = SpawnChild(options.argv, options.env, options.cwd, sa, POSIX_SPAWN_SETPGROUP);
  CloseFd(in_pipe[0]);
  CloseFd(out_pipe[1]);
  CloseFd(err_pipe[1]);
  if (!pid) {
    close_all();
    return Fail(pid.error());
  }

  RunResult result;
  const auto deadline = Clock::now() + options.timeout;
  std::string_view to_write = options.stdin_text ? std::string_view(*options.stdin_text) : std::string_view();
  if (in_pipe[1] >= 0) {
    ::fcntl(in_pipe[1], F_SETFL, ::fcntl(in_pipe[1], F_GETFL) | O_NONBLOCK);
    if (to_write.empty()) CloseFd(in_pipe[1]);
  }
  char buf[65536];
  auto drain = [&](int& fd, std::string& into, bool& truncated) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      const std::size_t room = options.max_output > into.size() ? options.max_output - into.size() : 0;
      const std::size_t take = std::min<std::size_t>(room, static_cast<std::size_t>(n));
      into.append(buf, take);
      if (take < static_cast<std::size_t>(n)) truncated = true;
    } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
      CloseFd(fd);
    }
  };

  while (out_pipe[0] >= 0 || err_pipe[0] >= 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      result.timed_out = true;
      break;
    }
    pollfd fds[3];
    nfds_t n = 0;
    int out_idx = -1, err_idx = -1, in_idx = -1;
    if (out_pipe[0] >= 0) { out_idx = static_cast<int>(n); fds[n++] = {out_pipe[0], POLLIN, 0}; }
    if (err_pipe[0] >= 0) { err_idx = static_cast<int>(n); fds[n++] = {err_pipe[0], POLLIN, 0}; }
    if (in_pipe[1] >= 0) { in_idx = static_cast<int>(n); fds[n++] = {in_pipe[1], POLLOUT, 0}; }
    const int ready = ::poll(fds, n, static_cast<int>(std::min<long long>(left.count(), 1000)));
    if (ready < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (out_idx >= 0 && (fds[out_idx].revents & (POLLIN | POLLHUP | POLLERR)))
      drain(out_pipe[0], result.out, result.out_truncated);
    if (err_idx >= 0 && (fds[err_idx].revents & (POLLIN | POLLHUP | POLLERR)))
      drain(err_pipe[0], result.err, result.err_truncated);
    if (in_idx >= 0 && fds[in_idx].revents != 0) {
      if (fds[in_idx].revents & (POLLERR | POLLHUP)) {
        CloseFd(in_pipe[1]);  // the child closed its stdin early: not our error
      } else {
        const ssize_t w = ::write(in_pipe[1], to_write.data(), to_write.size());
        if (w > 0) to_write.remove_prefix(static_cast<std::size_t>(w));
        if ((w < 0 && errno != EAGAIN && errno != EINTR) || to_write.empty()) CloseFd(in_pipe[1]);
      }
    }
  }
  close_all();

  if (result.timed_out) {
    ::kill(-*pid, SIGKILL);
    ::kill(*pid, SIGKILL);
  }
  // Output pipes are closed: the child has exited or is about to; a timed-out
  // child was killed. Either way the wait is short, but stay bounded.
  const auto status = WaitChildUntil(*pid, Clock::now() + (result.timed_out ? std::chrono::seconds(5) : options.timeout));
  if (!status) {
    ::kill(-*pid, SIGKILL);
    ::kill(*pid, SIGKILL);
    (void)WaitChildUntil(*pid, Clock::now() + std::chrono::seconds(5));
    result.timed_out = true;
    return result;
  }
  result.exit_code = status->exit_code;
  result.term_signal = status->term_signal;
  return result;
}

Result<Process> Process::Start(const SpawnOptions& options) {
  SpawnAttrs sa;
  posix_spawn_file_actions_addopen(&sa.actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  const std::string out = options.stdout_file.empty() ? "/dev/null" : options.stdout_file;
  const std::string err = options.stderr_file.empty() ? "/dev/null" : options.stderr_file;
  posix_spawn_file_actions_addopen(&sa.actions, STDOUT_FILENO, out.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0640);
  posix_spawn_file_actions_addopen(&sa.actions, STDERR_FILENO, err.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0640);
  auto pid = SpawnChild(options.argv, options.env, options.cwd, sa, options.new_session ? POSIX_SPAWN_SETSID : 0);
  if (!pid) return Fail(pid.error());
  return Process(*pid);
}

Process::Process(Process&& other) noexcept : pid_(other.pid_), status_(other.status_) { other.pid_ = -1; }

Process& Process::operator=(Process&& other) noexcept {
  if (this != &other) {
    if (pid_ > 0 && !status_) (void)Stop();
    pid_ = other.pid_;
    status_ = other.status_;
    other.pid_ = -1;
  }
  return *this;
}

Process::~Process() {
  if (pid_ > 0 && !status_) (void)Stop();
}

bool Process::Alive() {
  if (pid_ <= 0 || status_) return false;
  status_ = WaitChildUntil(pid_, Clock::now());
  return !status_;
}

void Process::Signal(int sig) const {
  if (pid_ > 0 && !status_) ::kill(pid_, sig);
}

Result<ExitStatus> Process::Wait(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return Fail(Error::FailedPrecondition("no process"));
  if (!status_) status_ = WaitChildUntil(pid_, Clock::now() + timeout);
  if (!status_) return Fail(Error::Timeout("process " + std::to_string(pid_) + " still running"));
  return *status_;
}

Result<ExitStatus> Process::Stop(std::chrono::milliseconds grace) {
  if (pid_ <= 0) return Fail(Error::FailedPrecondition("no process"));
  if (status_) return *status_;
  ::kill(pid_, SIGTERM);
  status_ = WaitChildUntil(pid_, Clock::now() + grace);
  if (status_) return *status_;
  ::kill(pid_, SIGKILL);
  status_ = WaitChildUntil(pid_, Clock::now() + std::chrono::seconds(10));
  if (!status_) return Fail(Error::Timeout("process " + std::to_string(pid_) + " survived SIGKILL"));
  return *status_;
}

pid_t Process::Release() {
  const pid_t pid = pid_;
  pid_ = -1;
  return pid;
}

bool IsProcessAlive(pid_t pid) {
  if (pid <= 0) return false;
  if (::kill(pid, 0) != 0 && errno == ESRCH) return false;
  // A zombie still answers kill(0); its state in /proc says it is gone.
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return ::kill(pid, 0) == 0 || errno == EPERM;
  const auto paren = line.rfind(')');
  if (paren == std::string::npos || paren + 2 >= line.size()) return true;
  const char state = line[paren + 2];
  return state != 'Z' && state != 'X';
}

Status StopProcess(pid_t pid, std::chrono::milliseconds grace) {
  if (!IsProcessAlive(pid)) return {};
  auto gone_by = [pid](Clock::time_point deadline) {
    auto pause = std::chrono::milliseconds(1);
    for (;;) {
      // Reap it if it happens to be our child; harmless otherwise.
      int wstatus = 0;
      (void)::waitpid(pid, &wstatus, WNOHANG);
      if (!IsProcessAlive(pid)) return true;
      if (Clock::now() >= deadline) return false;
      std::this_thread::sleep_for(pause);
      pause = std::min(pause * 2, std::chrono::milliseconds(50));
    }
  };
  if (::kill(pid, SIGTERM) != 0 && errno == EPERM)
    return Fail(Error::PermissionDenied("not allowed to signal process " + std::to_string(pid)));
  if (gone_by(Clock::now() + grace)) return {};
  ::kill(pid, SIGKILL);
  if (gone_by(Clock::now() + std::chrono::seconds(10))) return {};
  return Fail(Error::Timeout("process " + std::to_string(pid) + " survived SIGKILL"));
}

}  // namespace cordon
