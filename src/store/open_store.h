// OpenStore: the one place that turns [store] into a ready Store (opened and
// migrated). New backends (PostgreSQL) are added here.
//
// Thread-safety: call from one thread at start.
#pragma once

#include <memory>
#include <string>

#include "config/config.h"
#include "core/error.h"
#include "store/store.h"

namespace cordon {

[[nodiscard]] Result<std::unique_ptr<Store>> OpenStore(const Config& config);

}  // namespace cordon
