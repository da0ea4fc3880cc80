#pragma once
// The composition root: builds every service once, wires the REST front end (api::Pipeline)
// and the realtime one (realtime::Hub, gateway, publisher) to them and to the network server,
// and runs until graceful shutdown. Constructed on the main thread; run() blocks.
#include <cstdint>
#include <memory>
#include <string>

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

namespace parley::server {

class Server {
 public:
  Server(const Config& cfg, store::Store& store);
  ~Server();

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

}  // namespace parley::server
