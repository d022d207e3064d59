#include "serve/events.hpp"

#include <doctest/doctest.h>

#include <thread>

using core::serve::EventHub;
using core::serve::Happening;
using namespace std::chrono_literals;

TEST_CASE("events: numbered from 1, newer than the id given, oldest first") {
    EventHub hub;
    CHECK(hub.last_id() == 0);
    hub.publish({"load", "a", "", "", ""});
    hub.publish({"evict", "b", "idle 3h", "", ""});
    CHECK(hub.last_id() == 2);
    uint64_t missed = 9;
    auto all = hub.after(0, 0ms, missed);
    REQUIRE(all.size() == 2);
    CHECK(missed == 0);
    CHECK(all[0].id == 1);
    CHECK(all[0].what.type == "load");
    CHECK(all[1].what.reason == "idle 3h");
    auto newer = hub.after(1, 0ms, missed);
    REQUIRE(newer.size() == 1);
    CHECK(newer[0].id == 2);
    CHECK(hub.after(2, 0ms, missed).empty());
}

TEST_CASE("events: a listener that fell behind learns how many it missed") {
    EventHub hub(3);
    for (int i = 0; i < 5; ++i)
        hub.publish({"load", "m" + std::to_string(i), "", "", ""});
    uint64_t missed = 0;
    auto kept = hub.after(0, 0ms, missed);
    REQUIRE(kept.size() == 3);
    CHECK(kept.front().id == 3);
    CHECK(missed == 2);
    hub.after(2, 0ms, missed);
    CHECK(missed == 0);
}

TEST_CASE("events: a wait ends when an event comes, and at close") {
    EventHub hub;
    uint64_t missed = 0;
    std::thread publisher([&] { hub.publish({"unload", "a", "asked", "", ""}); });
    auto got = hub.after(0, 10s, missed); // returns as soon as it is published
    publisher.join();
    REQUIRE(got.size() == 1);
    CHECK(got[0].what.model == "a");

    std::thread closer([&] { hub.close(); });
    CHECK(hub.after(1, 10s, missed).empty());
    closer.join();
    CHECK(hub.closed());
    hub.publish({"load", "b", "", "", ""});
    CHECK(hub.after(0, 10s, missed).empty()); // closed: no wait, nothing
}
