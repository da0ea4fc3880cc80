#pragma once
// The parley command line: serve, migrate, app, token, options, routes, version.

namespace parley::cli {

/// Parses arguments and runs the chosen command; returns the process exit code.
int run(int argc, char** argv);

}  // namespace parley::cli
