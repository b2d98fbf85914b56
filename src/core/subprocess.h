// Subprocess: run another program without a shell.
//
// Two shapes:
//  * RunProgram(): start a program, feed it optional stdin text, capture its stdout
//    and stderr (each bounded), and wait for it with a deadline. On timeout
//    the whole process group is killed.
//  * Process::Start(): start a long-running program in the background (its
//    own session, output to files), check whether it is alive, stop it with
//    SIGTERM and then SIGKILL after a grace period. A Process stops its child
//    when destroyed unless Release()d, so a test cannot leak a server.
//  For a process started by someone else (e.g. a pid read from a pid file),
//  IsProcessAlive() and StopProcess() do the same by pid.
//
// argv[0] is looked up in PATH when it has no '/'.
//
// A child does not inherit the caller's environment, which may hold secrets
// (CORDON_TOKEN, a connector's password_env variable, ...) that the child has
// no use for. It gets only the caller's PATH (or, if unset or empty,
// /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin), LANG, LC_ALL,
// LC_CTYPE, TZ, TMPDIR and the sanitizer runtime options (ASAN_OPTIONS,
// UBSAN_OPTIONS, LSAN_OPTIONS, TSAN_OPTIONS), plus the `env` additions, which
// override variables of the same name. Whatever else a child needs (HOME,
// KRB5_CONFIG, LDAPTLS_CACERT, ...) the caller passes in `env`.
// Never put secrets in argv (other local users can read it in /proc): pass
// them through stdin_text, a file, or env.
//
// Thread-safety: RunProgram() and the free functions are safe to call from several
// threads at once. A Process object is not synchronised: use it from one
// thread at a time.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"

namespace cordon {

using EnvVars = std::vector<std::pair<std::string, std::string>>;

struct RunOptions {
  std::vector<std::string> argv;           // argv[0] is the program
  std::optional<std::string> stdin_text;   // none: stdin is /dev/null
  EnvVars env;                             // the child's environment beyond the inherited few (above)
  std::string cwd;                         // empty: the caller's
  std::chrono::milliseconds timeout{std::chrono::seconds(60)};
  std::size_t max_output = std::size_t{4} << 20;  // per stream; the rest is read and dropped
};

struct RunResult {
  int exit_code = -1;    // valid when term_signal == 0 and !timed_out
  int term_signal = 0;   // the signal that ended it, or 0
  bool timed_out = false;
  std::string out;
  std::string err;
  bool out_truncated = false;
  bool err_truncated = false;

  [[nodiscard]] bool ok() const { return !timed_out && term_signal == 0 && exit_code == 0; }
  // "exit 2", "signal 9", "timed out": for error messages.
  [[nodiscard]] std::string Describe() const;
};

// Runs a program to completion. The Result is an error only when the program
// could not be started; a non-zero exit is reported in RunResult.
[[nodiscard]] Result<RunResult> RunProgram(const RunOptions& options);

struct SpawnOptions {
  std::vector<std::string> argv;
  EnvVars env;  // as RunOptions::env
  std::string cwd;
  std::string stdout_file;  // appended to; empty: /dev/null
  std::string stderr_file;  // appended to; empty: /dev/null
  bool new_session = true;  // setsid(): no terminal signals reach it (Ctrl-C of the caller)
};

struct ExitStatus {
  int exit_code = -1;   // valid when term_signal == 0
  int term_signal = 0;
};

// A background child process. Movable, not copyable.
class Process {
 public:
  [[nodiscard]] static Result<Process> Start(const SpawnOptions& options);

  Process() = default;
  Process(Process&& other) noexcept;
  Process& operator=(Process&& other) noexcept;
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  ~Process();  // Stop()s the child unless Release()d

  [[nodiscard]] pid_t pid() const { return pid_; }
  // True while the child runs; reaps it (and records its status) once it exited.
  [[nodiscard]] bool Alive();
  // The exit status once the child has been reaped.
  [[nodiscard]] std::optional<ExitStatus> exit_status() const { return status_; }
  // Sends a signal (e.g. SIGKILL to simulate a crash) without waiting.
  void Signal(int sig) const;
  // Waits up to `timeout` for the child to exit on its own.
  [[nodiscard]] Result<ExitStatus> Wait(std::chrono::milliseconds timeout);
  // SIGTERM, then SIGKILL once `grace` is over; waits for the exit.
  [[nodiscard]] Result<ExitStatus> Stop(std::chrono::milliseconds grace = std::chrono::seconds(5));
  // Leaves the child running after this object dies; returns its pid.
  pid_t Release();

 private:
  explicit Process(pid_t pid) : pid_(pid) {}
  pid_t pid_ = -1;
  std::optional<ExitStatus> status_;
};

// True if a process with this pid exists and is not a zombie.
[[nodiscard]] bool IsProcessAlive(pid_t pid);

// Stops a process that is not our child: SIGTERM, then SIGKILL after `grace`,
// then waits (bounded) until it is gone. Succeeds at once if it is not running.
[[nodiscard]] Status StopProcess(pid_t pid, std::chrono::milliseconds grace = std::chrono::seconds(5));

}  // namespace cordon
