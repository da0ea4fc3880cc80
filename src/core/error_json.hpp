#pragma once
// The one error body: {"error":{"code","message","details"}}.
#include <string>

#include "core/error.hpp"

namespace parley {

std::string error_json(const Error& e);

}  // namespace parley
