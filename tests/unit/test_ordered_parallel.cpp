// Unit tests for support/OrderedParallel.h: items used in index order on the calling
// thread, whatever the number of threads, with at most `window` of them in flight.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "support/OrderedParallel.h"

using namespace tlc;

TEST_CASE("orderedParallel uses items in index order for every number of threads") {
  for (unsigned jobs : {1u, 2u, 3u, 8u}) {
    CAPTURE(jobs);
    std::vector<size_t> used;
    std::thread::id caller = std::this_thread::get_id();
    bool onCaller = true;
    orderedParallel<std::string>(
        50, jobs, 2 * jobs,
        [](size_t i) {
          // Later items finish first, so the order cannot come from timing.
          std::this_thread::sleep_for(std::chrono::microseconds((50 - i) * 20));
          return std::to_string(i);
        },
        [&](size_t i, std::string&& item) {
          onCaller = onCaller && std::this_thread::get_id() == caller;
          CHECK(item == std::to_string(i));
          used.push_back(i);
        });
    REQUIRE(used.size() == 50);
    for (size_t i = 0; i < used.size(); ++i) CHECK(used[i] == i);
    CHECK(onCaller);
  }
}

TEST_CASE("orderedParallel makes at most `window` items ahead of the one in use") {
  std::atomic<int> inFlight{0};
  std::atomic<int> most{0};
  orderedParallel<int>(
      40, 4, 6,
      [&](size_t i) {
        int now = ++inFlight;
        for (int seen = most.load(); now > seen && !most.compare_exchange_weak(seen, now);) {
        }
        return (int)i;
      },
      [&](size_t, int&&) {
        --inFlight;
        std::this_thread::sleep_for(std::chrono::microseconds(300));  // a slow consumer
      });
  CHECK(most.load() <= 6 + 1);  // the window, and the item being handed over
  CHECK(most.load() >= 1);
}

TEST_CASE("orderedParallel with one job runs on the calling thread, make then use") {
  std::vector<std::string> events;
  orderedParallel<int>(
      3, 1, 1, [&](size_t i) { events.push_back("make " + std::to_string(i)); return (int)i; },
      [&](size_t i, int&&) { events.push_back("use " + std::to_string(i)); });
  CHECK(events == std::vector<std::string>{"make 0", "use 0", "make 1", "use 1", "make 2", "use 2"});
  int calls = 0;
  orderedParallel<int>(0, 4, 8, [&](size_t) { ++calls; return 0; }, [&](size_t, int&&) { ++calls; });
  CHECK(calls == 0);
}
