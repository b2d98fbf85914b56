#include "core/subprocess.h"

#include <signal.h>

#include <filesystem>
#include <fstream>

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
