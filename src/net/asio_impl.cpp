// The one translation unit that compiles Asio and Beast (separate compilation: every other
// file sees only declarations, which keeps the build fast).
#include <boost/asio/impl/src.hpp>
#include <boost/beast/src.hpp>
