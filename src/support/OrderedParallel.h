// OrderedParallel: make items on worker threads, use them on the caller's thread in
// index order, with a bounded number in flight.
//
// The pipeline builds each kernel of a file on its own (tlc/Pipeline.cpp): `make(i)`
// lowers and generates kernel i on one of `jobs` threads; `use(i, item)` runs on the
// calling thread, for i = 0, 1, 2, ... in that order, as soon as item i is made. So
// whatever consumes the items (the diagnostics, the cubin assembler, the text
// outputs) sees the same sequence for every `jobs`: the output cannot depend on the
// thread count or on timing. At most `window` items are made (or being made) ahead of
// the one being used, so the memory held is that of the items in flight, not of all.
//
// With jobs <= 1 no thread is started: make(0), use(0), make(1), use(1), ...
// `make` must be safe to call on several threads at once for different indices.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace tlc {

template <class Item, class Make, class Use>
void orderedParallel(size_t count, unsigned jobs, size_t window, Make make, Use use) {
  if (jobs <= 1 || count <= 1) {
    for (size_t i = 0; i < count; ++i) use(i, make(i));
    return;
  }
  if (window < jobs) window = jobs;
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<std::optional<Item>> made(count);
  size_t nextToMake = 0;  // the next index a worker takes
  size_t used = 0;        // items [0, used) have been handed to `use`

  auto worker = [&] {
    for (;;) {
      size_t i;
      {
        std::unique_lock<std::mutex> lock(mutex);
        // Take the next index once it is within the window of the items still to be used.
        changed.wait(lock, [&] { return nextToMake >= count || nextToMake < used + window; });
        if (nextToMake >= count) return;
        i = nextToMake++;
      }
      Item item = make(i);
      {
        std::lock_guard<std::mutex> lock(mutex);
        made[i].emplace(std::move(item));
      }
      changed.notify_all();
    }
  };
  std::vector<std::thread> threads;
  const size_t threadCount = jobs < count ? jobs : count;
  threads.reserve(threadCount);
  for (size_t t = 0; t < threadCount; ++t) threads.emplace_back(worker);

  for (size_t i = 0; i < count; ++i) {
    std::optional<Item> item;
    {
      std::unique_lock<std::mutex> lock(mutex);
      changed.wait(lock, [&] { return made[i].has_value(); });
      item.swap(made[i]);
      used = i + 1;
    }
    changed.notify_all();
    use(i, std::move(*item));
  }
  for (std::thread& t : threads) t.join();
}

}  // namespace tlc
