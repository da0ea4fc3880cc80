#pragma once
// JSON shapes of the API's resources (see docs/api.md). Never includes secrets or hashes.
#include <boost/json/object.hpp>

#include "auth/token_service.hpp"
#include "store/types.hpp"

namespace parley::api {

boost::json::object to_json(const store::AppRecord& app);
boost::json::object to_json(const store::ApiKeyRecord& key);
boost::json::object to_json(const store::UserRecord& user);
boost::json::object to_json(const store::AuditRecord& entry);
boost::json::object to_json(const auth::TokenPair& pair);

/// {"items": [...], "next_cursor": cursor or null}
boost::json::object page(boost::json::array items, const std::optional<std::string>& next_cursor);

}  // namespace parley::api
