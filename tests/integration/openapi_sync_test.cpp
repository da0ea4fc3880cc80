// docs/openapi.yaml and the server's route table (`parley routes`) must agree: every route is
// documented under its path with its method, and every documented operation is a route.
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "fixtures.hpp"

namespace parley::test {
namespace {

using Operations = std::set<std::pair<std::string, std::string>>;  // (path, lower-case method)

Operations served_routes() {
  auto r = run_parley({"routes"});
  if (r.exit_code != 0) throw std::runtime_error("parley routes failed: " + r.err);
  Operations out;
  std::istringstream in(r.out);
  std::string line;
  static const std::regex kLine(R"(([A-Z]+) (/\S*))");
  std::smatch m;
  while (std::getline(in, line)) {
    if (!std::regex_match(line, m, kLine)) throw std::runtime_error("unexpected routes line: '" + line + "'");
    std::string method = m[1].str();
    for (char& c : method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.emplace(m[2].str(), method);
  }
  return out;
}

// Paths at 2-space indentation under `paths:`, methods at 4-space indentation within each.
Operations documented_operations() {
  std::ifstream in(std::string(PARLEY_SOURCE_DIR) + "/docs/openapi.yaml");
  if (!in) throw std::runtime_error("cannot read docs/openapi.yaml");
  Operations out;
  static const std::regex kPath(R"(  (/\S*):\s*)");
  static const std::regex kMethod(R"(    (get|put|post|patch|delete|options|head|trace):.*)");
  std::string line, path;
  bool in_paths = false;
  std::smatch m;
  while (std::getline(in, line)) {
    if (!line.empty() && line[0] != ' ' && line[0] != '#') {
      in_paths = line.starts_with("paths:");
      path.clear();
      continue;
    }
    if (!in_paths) continue;
    if (std::regex_match(line, m, kPath)) {
      path = m[1].str();
    } else if (line.size() > 2 && line[0] == ' ' && line[1] == ' ' && line[2] != ' ') {
      path.clear();  // another 2-space key ends the path's block
    } else if (!path.empty() && std::regex_match(line, m, kMethod)) {
      out.emplace(path, m[1].str());
    }
  }
  return out;
}

std::string list(const Operations& ops) {
  std::string s;
  for (const auto& [path, method] : ops) s += "  " + method + " " + path + "\n";
  return s;
}

TEST(OpenApiSyncTest, TheRouteTableIsNotEmpty) {
  auto routes = served_routes();
  EXPECT_GE(routes.size(), 20u);
  EXPECT_TRUE(routes.contains({"/health", "get"}));
}

TEST(OpenApiSyncTest, TheOpenApiDocumentHasOperations) { EXPECT_GE(documented_operations().size(), 20u); }

TEST(OpenApiSyncTest, EveryRouteIsDocumentedInOpenApi) {
  auto docs = documented_operations();
  Operations missing;
  for (const auto& op : served_routes()) {
    if (!docs.contains(op)) missing.insert(op);
  }
  EXPECT_TRUE(missing.empty()) << "routes missing from docs/openapi.yaml (path at 2 spaces, method at 4):\n"
                               << list(missing);
}

TEST(OpenApiSyncTest, EveryDocumentedOperationIsARoute) {
  auto routes = served_routes();
  Operations extra;
  for (const auto& op : documented_operations()) {
    if (!routes.contains(op)) extra.insert(op);
  }
  EXPECT_TRUE(extra.empty()) << "docs/openapi.yaml documents operations the server does not have:\n" << list(extra);
}

}  // namespace
}  // namespace parley::test
