#pragma once
// Resolves a request's credentials once, as its route demands (admin key, app credentials,
// user token), filling Ctx. Runs store lookups on the database pool.
#include <boost/asio/awaitable.hpp>

#include "api/context.hpp"

namespace parley::api {

boost::asio::awaitable<Status> resolve_access(Ctx& ctx, Access access);

}  // namespace parley::api
