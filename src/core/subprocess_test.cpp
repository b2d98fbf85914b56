#include "core/subprocess.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace cordon {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(RunProgram, CapturesStdoutAndStderrSeparately) {
  auto r = RunProgram({.argv = {"sh", "-c", "printf out; printf err >&2"}});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->ok());
  EXPECT_EQ(r->out, "out");
  EXPECT_EQ(r->err, "err");
}

TEST(RunProgram, ReportsExitCode) {
  auto r = RunProgram({.argv = {"sh", "-c", "exit 7"}});
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->ok());
  EXPECT_EQ(r->exit_code, 7);
  EXPECT_EQ(r->Describe(), "exit 7");
}

TEST(RunProgram, ReportsTerminatingSignal) {
  auto r = RunProgram({.argv = {"sh", "-c", "kill -KILL $$"}});
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->ok());
  EXPECT_EQ(r->term_signal, SIGKILL);
}

TEST(RunProgram, FeedsStdin) {
  std::string big(300000, 'x');  // larger than a pipe buffer: needs the poll loop
  auto r = RunProgram({.argv = {"wc", "-c"}, .stdin_text = big});
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->ok());
  EXPECT_EQ(std::stol(r->out), 300000);
}

TEST(RunProgram, StdinIsEmptyWithoutText) {
  auto r = RunProgram({.argv = {"cat"}});
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->ok());
  EXPECT_EQ(r->out, "");
}

TEST(RunProgram, AddsEnvironmentVariables) {
  auto r = RunProgram({.argv = {"sh", "-c", "printf %s \"$CORDON_TEST_VAR\""}, .env = {{"CORDON_TEST_VAR", "hello"}}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->out, "hello");
}

// Sets environment variables for one test and restores what was there before.
class ScopedEnv {
 public:
  explicit ScopedEnv(std::vector<std::pair<std::string, std::optional<std::string>>> vars) {
    for (auto& [name, value] : vars) {
      const char* old = std::getenv(name.c_str());
      saved_.emplace_back(name, old ? std::optional<std::string>(old) : std::nullopt);
      Set(name, value);
    }
  }
  ~ScopedEnv() {
    for (const auto& [name, value] : saved_) Set(name, value);
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  static void Set(const std::string& name, const std::optional<std::string>& value) {
    if (value) ::setenv(name.c_str(), value->c_str(), 1);
    else ::unsetenv(name.c_str());
  }
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

// The child's environment, one "KEY=value" per entry.
std::set<std::string> EnvOf(const RunResult& r) {
  std::set<std::string> vars;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) vars.insert(line);
  return vars;
}

bool HasName(const std::set<std::string>& vars, const std::string& name) {
  return std::any_of(vars.begin(), vars.end(), [&](const std::string& kv) { return kv.rfind(name + "=", 0) == 0; });
}

TEST(RunProgram, ChildGetsOnlyAnAllowListOfTheCallersEnvironment) {
  ScopedEnv env({{"CORDON_TOKEN", "secret-token"},
                 {"SOME_PASSWORD", "hunter2"},
                 {"HOME", "/home/someone"},
                 {"PATH", "/usr/bin:/bin"},
                 {"TZ", "UTC"},
                 {"ASAN_OPTIONS", "detect_leaks=0"}});
  auto r = RunProgram({.argv = {"/usr/bin/env"}, .env = {{"CORDON_EXPLICIT", "given"}}});
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_TRUE(r->ok()) << r->err;
  const auto vars = EnvOf(*r);
  EXPECT_FALSE(HasName(vars, "CORDON_TOKEN")) << r->out;
  EXPECT_FALSE(HasName(vars, "SOME_PASSWORD")) << r->out;
  EXPECT_FALSE(HasName(vars, "HOME")) << r->out;
  EXPECT_EQ(r->out.find("secret-token"), std::string::npos);
  EXPECT_EQ(r->out.find("hunter2"), std::string::npos);
  EXPECT_TRUE(vars.contains("PATH=/usr/bin:/bin")) << r->out;
  EXPECT_TRUE(vars.contains("TZ=UTC")) << r->out;
  EXPECT_TRUE(vars.contains("ASAN_OPTIONS=detect_leaks=0")) << r->out;
  EXPECT_TRUE(vars.contains("CORDON_EXPLICIT=given")) << r->out;
}

TEST(RunProgram, ExplicitVariablesOverrideInheritedOnes) {
  ScopedEnv env({{"TZ", "UTC"}, {"HOME", "/home/someone"}});
  auto r = RunProgram({.argv = {"/usr/bin/env"}, .env = {{"TZ", "Europe/Paris"}, {"HOME", "/given/home"}}});
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_TRUE(r->ok()) << r->err;
  const auto vars = EnvOf(*r);
  EXPECT_TRUE(vars.contains("TZ=Europe/Paris")) << r->out;
  EXPECT_FALSE(vars.contains("TZ=UTC")) << r->out;
  EXPECT_TRUE(vars.contains("HOME=/given/home")) << r->out;
}

TEST(RunProgram, ChildGetsADefaultPathWhenTheCallerHasNone) {
  ScopedEnv env({{"PATH", std::nullopt}});
  auto r = RunProgram({.argv = {"/usr/bin/env"}});
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_TRUE(r->ok()) << r->err;
  EXPECT_TRUE(EnvOf(*r).contains("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")) << r->out;
}

TEST(BackgroundProcess, ChildGetsOnlyAnAllowListOfTheCallersEnvironment) {
  ScopedEnv env({{"CORDON_TOKEN", "secret-token"}, {"SOME_PASSWORD", "hunter2"}, {"HOME", "/home/someone"}});
  const auto dir = std::filesystem::temp_directory_path() / ("cordon-subprocess-env-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto out = dir / "env.out";
  auto p = Process::Start(
      {.argv = {"/usr/bin/env"}, .env = {{"CORDON_EXPLICIT", "given"}}, .stdout_file = out.string()});
  ASSERT_TRUE(p) << p.error().message;
  ASSERT_TRUE(p->Wait(seconds(30)));
  std::ifstream in(out);
  RunResult r;
  r.out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  std::filesystem::remove_all(dir);
  const auto vars = EnvOf(r);
  EXPECT_FALSE(HasName(vars, "CORDON_TOKEN")) << r.out;
  EXPECT_FALSE(HasName(vars, "SOME_PASSWORD")) << r.out;
  EXPECT_FALSE(HasName(vars, "HOME")) << r.out;
  EXPECT_TRUE(HasName(vars, "PATH")) << r.out;
  EXPECT_TRUE(vars.contains("CORDON_EXPLICIT=given")) << r.out;
}

TEST(RunProgram, PassesArgumentsWithoutAShell) {
  auto r = RunProgram({.argv = {"printf", "%s|", "a b", "$HOME", "*"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->out, "a b|$HOME|*|");
}

TEST(RunProgram, RunsInTheGivenDirectory) {
  auto r = RunProgram({.argv = {"pwd"}, .cwd = "/"});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->out, "/\n");
}

TEST(RunProgram, BoundsCapturedOutput) {
  auto r = RunProgram({.argv = {"head", "-c", "100000", "/dev/zero"}, .max_output = 1000});
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->ok());
  EXPECT_EQ(r->out.size(), 1000u);
  EXPECT_TRUE(r->out_truncated);
  EXPECT_FALSE(r->err_truncated);
}

TEST(RunProgram, KillsTheProcessGroupOnTimeout) {
  // The grandchild holds the output pipe open: only killing the group ends it.
  auto r = RunProgram({.argv = {"sh", "-c", "sleep 30 & sleep 30"}, .timeout = milliseconds(200)});
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->timed_out);
  EXPECT_FALSE(r->ok());
  EXPECT_EQ(r->Describe(), "timed out");
}

TEST(RunProgram, FailsToStartAMissingProgram) {
  auto r = RunProgram({.argv = {"/nonexistent/cordon-no-such-program"}});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("cordon-no-such-program"), std::string::npos);
}

TEST(RunProgram, RejectsAnEmptyArgv) {
  auto r = RunProgram({});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
}

TEST(BackgroundProcess, StartsStopsWithSigterm) {
  auto p = Process::Start({.argv = {"sleep", "30"}});
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_GT(p->pid(), 0);
  EXPECT_TRUE(p->Alive());
  EXPECT_TRUE(IsProcessAlive(p->pid()));
  auto st = p->Stop(seconds(5));
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_EQ(st->term_signal, SIGTERM);
  EXPECT_FALSE(p->Alive());
}

TEST(BackgroundProcess, EscalatesToSigkillAfterGrace) {
  // An ignored SIGTERM stays ignored across exec.
  auto p = Process::Start({.argv = {"sh", "-c", "trap '' TERM; exec sleep 30"}});
  ASSERT_TRUE(p);
  // Let the shell install its trap before the signal arrives.
  auto early = p->Wait(milliseconds(300));
  ASSERT_FALSE(early);
  auto st = p->Stop(milliseconds(200));
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_EQ(st->term_signal, SIGKILL);
}

TEST(BackgroundProcess, WaitReturnsExitCode) {
  auto p = Process::Start({.argv = {"sh", "-c", "exit 3"}});
  ASSERT_TRUE(p);
  auto st = p->Wait(seconds(30));
  ASSERT_TRUE(st);
  EXPECT_EQ(st->exit_code, 3);
  EXPECT_FALSE(p->Alive());
  ASSERT_TRUE(p->exit_status());
  EXPECT_EQ(p->exit_status()->exit_code, 3);
}

TEST(BackgroundProcess, SignalSimulatesACrash) {
  auto p = Process::Start({.argv = {"sleep", "30"}});
  ASSERT_TRUE(p);
  p->Signal(SIGKILL);
  auto st = p->Wait(seconds(10));
  ASSERT_TRUE(st);
  EXPECT_EQ(st->term_signal, SIGKILL);
}

TEST(BackgroundProcess, DestructorStopsTheChild) {
  pid_t pid = -1;
  {
    auto p = Process::Start({.argv = {"sleep", "30"}});
    ASSERT_TRUE(p);
    pid = p->pid();
  }
  EXPECT_FALSE(IsProcessAlive(pid));
}

TEST(BackgroundProcess, ReleasedChildIsStoppedByPid) {
  pid_t pid = -1;
  {
    auto p = Process::Start({.argv = {"sleep", "30"}});
    ASSERT_TRUE(p);
    pid = p->Release();
  }
  EXPECT_TRUE(IsProcessAlive(pid));
  auto s = StopProcess(pid, seconds(5));
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_FALSE(IsProcessAlive(pid));
  EXPECT_TRUE(StopProcess(pid));  // already gone: still fine
}

TEST(BackgroundProcess, WritesOutputToFiles) {
  const auto dir = std::filesystem::temp_directory_path() / ("cordon-subprocess-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto out = dir / "out.log";
  auto p = Process::Start({.argv = {"sh", "-c", "echo hello; echo oops >&2"},
                           .stdout_file = out.string(),
                           .stderr_file = out.string()});
  ASSERT_TRUE(p);
  ASSERT_TRUE(p->Wait(seconds(30)));
  std::ifstream in(out);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(all.find("hello"), std::string::npos);
  EXPECT_NE(all.find("oops"), std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST(IsProcessAlive, FalseForImpossiblePids) {
  EXPECT_FALSE(IsProcessAlive(-1));
  EXPECT_FALSE(IsProcessAlive(0));
}

}  // namespace
}  // namespace cordon
