#pragma once
// The profile fields a user carries (name, image_url, custom), read from a request body with
// their limits. Shared by token minting and "update me".
#include "core/json_reader.hpp"
#include "store/types.hpp"

namespace parley::users {

constexpr std::size_t kMaxNameBytes = 100;
constexpr std::size_t kMaxImageUrlBytes = 2048;
constexpr std::size_t kMaxCustomBytes = 8192;

/// Reads the optional profile fields into `patch`; errors are recorded on the reader.
void read_profile_fields(ObjectReader& r, store::UserPatch& patch);
/// Reads only image_url and custom (channels share these rules).
void read_image_and_custom(ObjectReader& r, store::UserPatch& patch);

}  // namespace parley::users
