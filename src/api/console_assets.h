// The web console's files (web/), built by esbuild when Cordon is built and
// embedded in the binary (web/CMakeLists.txt generates the definition of
// ConsoleAssets from the built files), so the server needs nothing on disk
// and nothing from elsewhere at run time.
//
// Every name but index.html carries a hash of its content, so an answer may
// be cached for good; index.html names them and is never cached.
//
// Thread-safety: constant data.
#pragma once

#include <span>
#include <string_view>

namespace cordon::api {

inline constexpr std::string_view kConsoleIndex = "index.html";

struct ConsoleAsset {
  std::string_view name;          // "index.html", "app-5MZC4RQG.js"
  std::string_view content_type;  // "text/javascript; charset=utf-8"
  std::string_view body;
};

// Every built file, index.html included.
[[nodiscard]] std::span<const ConsoleAsset> ConsoleAssets();

// The file of that name, or null.
[[nodiscard]] const ConsoleAsset* FindConsoleAsset(std::string_view name);

}  // namespace cordon::api
