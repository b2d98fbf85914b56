#include "core/secret.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

namespace cordon {
namespace {

TEST(SecretTest, NeverPrintsItsValue) {
  Secret s("hunter2-very-secret");
  std::ostringstream os;
  os << s;
  EXPECT_EQ(os.str(), "***");
  EXPECT_EQ(s.ToString(), "***");
  EXPECT_EQ(s.Reveal(), "hunter2-very-secret");
}

TEST(SecretTest, LoadsFromFileFirstLineOnly) {
  auto path = std::filesystem::temp_directory_path() / ("cordon-secret-" + std::to_string(::getpid()));
  {
    std::ofstream(path) << "s3cr3t\r\nsecond line\n";
  }
  auto s = LoadSecret({.file = path.string()});
  ASSERT_TRUE(s.has_value()) << s.error().message;
  EXPECT_EQ(s->Reveal(), "s3cr3t");
  std::filesystem::remove(path);
}

TEST(SecretTest, LoadsFromEnvironment) {
  ::setenv("CORDON_TEST_SECRET_VAR", "from-env", 1);
  auto s = LoadSecret({.env = "CORDON_TEST_SECRET_VAR"});
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->Reveal(), "from-env");
  ::unsetenv("CORDON_TEST_SECRET_VAR");
}

TEST(SecretTest, ErrorsNameTheReferenceNotTheContent) {
  auto missing = LoadSecret({.file = "/nonexistent/cordon.pw"});
  ASSERT_FALSE(missing.has_value());
  EXPECT_NE(missing.error().message.find("/nonexistent/cordon.pw"), std::string::npos);

  auto unset = LoadSecret({.env = "CORDON_TEST_SURELY_UNSET"});
  ASSERT_FALSE(unset.has_value());
  EXPECT_NE(unset.error().message.find("CORDON_TEST_SURELY_UNSET"), std::string::npos);

  EXPECT_FALSE(LoadSecret({.file = "a", .env = "b"}).has_value());
  EXPECT_FALSE(LoadSecret({}).has_value());
}

}  // namespace
}  // namespace cordon
