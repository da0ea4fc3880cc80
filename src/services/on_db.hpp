#pragma once
// Runs blocking store work on the database thread pool and resumes the calling coroutine on
// its own executor with the result. Network threads never block on the database (nor on files).
#include <chrono>
#include <type_traits>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "services/services.hpp"

namespace parley::services {

template <class F>
boost::asio::awaitable<std::invoke_result_t<F&>> on_db(Services& s, F f) {
  using R = std::invoke_result_t<F&>;
  co_return co_await boost::asio::co_spawn(
      s.db_pool,
      [&s, f = std::move(f)]() mutable -> boost::asio::awaitable<R> {
        auto start = std::chrono::steady_clock::now();
        R r = f();
        s.metrics.observe_db(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        co_return r;
      },
      boost::asio::use_awaitable);
}

/// Runs blocking file work (disk, storage, image processing) on the files pool, like on_db.
template <class F>
boost::asio::awaitable<std::invoke_result_t<F&>> on_files(Services& s, F f) {
  using R = std::invoke_result_t<F&>;
  co_return co_await boost::asio::co_spawn(
      s.files_pool, [f = std::move(f)]() mutable -> boost::asio::awaitable<R> { co_return f(); },
      boost::asio::use_awaitable);
}

}  // namespace parley::services
