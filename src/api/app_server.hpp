#pragma once
// The HTTP API as one object: services, router, the request pipeline (request id, CORS,
// routing, rate limits, content type, credentials, errors, metrics, access log) and the
// network server. Constructed on the main thread; run() blocks until graceful shutdown.
#include <cstdint>
#include <memory>

#include "api/router.hpp"
#include "config/config.hpp"
#include "store/store.hpp"

namespace parley::tenancy {
class TenancyService;
}
namespace parley::auth {
class TokenService;
}
namespace parley::chat {
class ChatService;
}

namespace parley::api {

/// Every route the server registers (also printed by `parley routes`).
Router build_router();

class ApiServer {
 public:
  ApiServer(const Config& cfg, store::Store& store);
  ~ApiServer();

  tenancy::TenancyService& tenancy();
  auth::TokenService& tokens();
  chat::ChatService& chat();

  /// Enables POST /v1/demo/session for the demo app's users (alice, bob, carol).
  void set_demo_app(const std::string& app_id);

  /// Binds the listener; returns the bound port.
  std::uint16_t listen();
  /// Serves until SIGINT/SIGTERM, finishes in-flight requests, stops the database threads.
  void run();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace parley::api
