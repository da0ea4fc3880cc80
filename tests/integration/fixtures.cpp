#include "fixtures.hpp"

#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace parley::test {

::testing::AssertionResult IsError(const HttpResponse& r, int status, std::string_view code) {
  auto fail = [&](const std::string& why) {
    return ::testing::AssertionFailure() << why << "\n  status: " << r.status << "\n  body: " << r.body;
  };
  if (r.status != status) return fail("expected status " + std::to_string(status));
  boost::system::error_code ec;
  auto v = json::parse(r.body, ec);
  if (ec || !v.is_object()) return fail("body is not a JSON object");
  const auto& o = v.as_object();
  if (o.size() != 1 || !o.contains("error") || !o.at("error").is_object()) return fail("body is not {\"error\":{…}}");
  const auto& e = o.at("error").as_object();
  if (e.size() != 3) return fail("error must have exactly code, message and details");
  if (!e.contains("code") || !e.at("code").is_string()) return fail("error.code is not a string");
  if (!e.contains("message") || !e.at("message").is_string() || e.at("message").as_string().empty()) {
    return fail("error.message is not a non-empty string");
  }
  if (!e.contains("details") || !e.at("details").is_object()) return fail("error.details is not an object");
  if (e.at("code").as_string() != code) return fail("expected error code '" + std::string(code) + "'");
  auto ct = r.header("Content-Type");
  if (!ct || ct->find("application/json") != 0) return fail("Content-Type is not application/json");
  return ::testing::AssertionSuccess();
}

std::string error_detail(const HttpResponse& r, std::string_view name) {
  boost::system::error_code ec;
  auto v = json::parse(r.body, ec);
  if (ec || !v.is_object()) return "";
  const auto* d = v.as_object().if_contains("error");
  if (!d || !d->is_object()) return "";
  const auto* details = d->as_object().if_contains("details");
  if (!details || !details->is_object()) return "";
  const auto* f = details->as_object().if_contains(name);
  return f && f->is_string() ? std::string(f->as_string()) : "";
}

std::string str(const json::value& v) { return std::string(v.as_string()); }

Auth admin_auth() { return Auth::bearer(ServerProcess::kAdminKey); }

void ServerFixture::SetUp() {
  server_ = std::make_unique<ServerProcess>(server_options());
  http_ = std::make_unique<HttpClient>(server_->port());
}

AppCreds ServerFixture::create_app(const std::string& name, const json::object& settings) {
  json::object body{{"name", name}};
  if (!settings.empty()) body["settings"] = settings;
  auto r = http_->post("/v1/admin/apps", admin_auth(), body);
  if (r.status != 201) throw std::runtime_error("creating an app failed: " + std::to_string(r.status) + " " + r.body);
  auto o = r.obj();
  return {str(o["app"].as_object()["id"]), str(o["api_key"]), str(o["api_secret"])};
}

UserTokens ServerFixture::mint(const AppCreds& app, const std::string& user_id, json::object fields) {
  fields["user_id"] = user_id;
  auto r = http_->post("/v1/auth/token", app.auth(), fields);
  if (r.status != 200) throw std::runtime_error("minting a token failed: " + std::to_string(r.status) + " " + r.body);
  auto o = r.obj();
  return {str(o["access_token"]), str(o["refresh_token"]), o["user"].as_object()};
}

void AppFixture::SetUp() {
  ServerFixture::SetUp();
  app_ = create_app("app A");
}

std::optional<double> metric_value(const std::string& text, std::string_view series) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with(series) && line.size() > series.size() && line[series.size()] == ' ') {
      return std::stod(line.substr(series.size() + 1));
    }
  }
  return std::nullopt;
}

bool eventually(const std::function<bool()>& cond, std::chrono::milliseconds timeout) {
  auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  return cond();
}

LoopbackScript::LoopbackScript(std::vector<std::string> argv)
    : child_(std::make_unique<ChildProcess>(argv, EnvVars{})) {
  if (!child_->wait_for_output("listening ", std::chrono::seconds(10))) {
    throw std::runtime_error(argv.back() + " did not start: " + child_->err());
  }
  std::smatch m;
  const std::string out = child_->out();
  if (!std::regex_search(out, m, std::regex("listening (\\d+)"))) throw std::runtime_error("no port: " + out);
  port_ = static_cast<std::uint16_t>(std::stoi(m[1]));
  http_ = std::make_unique<HttpClient>(port_);
}

LoopbackScript LoopbackScript::python(const std::string& script) {
  return LoopbackScript({"/usr/bin/python3", std::string(PARLEY_SOURCE_DIR) + "/tests/integration/" + script});
}

std::string LoopbackScript::url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

}  // namespace parley::test
