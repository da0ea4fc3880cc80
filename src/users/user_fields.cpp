#include "users/user_fields.hpp"

#include <boost/json/serialize.hpp>

namespace parley::users {

void read_profile_fields(ObjectReader& r, store::UserPatch& patch) {
  patch.name = r.string("name", false, 0, kMaxNameBytes);
  read_image_and_custom(r, patch);
}

void read_image_and_custom(ObjectReader& r, store::UserPatch& patch) {
  if (auto url = r.string("image_url", false, 0, kMaxImageUrlBytes)) {
    if (!url->empty() && !url->starts_with("https://") && !url->starts_with("http://")) {
      r.fail(violates("image_url", "must be an http(s) URL or empty"));
    }
    patch.image_url = std::move(url);
  }
  if (auto custom = r.object("custom", false, kMaxCustomBytes)) patch.custom_json = boost::json::serialize(*custom);
}

}  // namespace parley::users
