#include <csignal>
#include <catch.hpp>

#include "base/units.h"

using namespace treerun;
using namespace std::chrono_literals;

TEST_CASE("durations parse with ms, s, m, h and bare seconds", "[units]") {
  CHECK(parse_duration("250ms") == Millis(250));
  CHECK(parse_duration("1.5s") == Millis(1500));
  CHECK(parse_duration("2m") == Millis(120'000));
  CHECK(parse_duration("1h") == Millis(3'600'000));
  CHECK(parse_duration("3") == Millis(3000));
  CHECK(parse_duration("0.25") == Millis(250));
  CHECK(parse_duration("0") == Millis(0));
  CHECK(parse_duration("1m30s") == Millis(90'000));
  CHECK(parse_duration("1h2m3s4ms") == Millis(3'723'004));
  CHECK(parse_duration("0.0001s") == Millis(0));  // below a millisecond rounds down
}

TEST_CASE("bad durations are refused", "[units]") {
  for (const char* bad : {"", "-1s", "-1", "s", "1x", "1.5.5s", "abc", "1 s", " 1s", "1s ", "1m30",
                          "1e3", ".5s", "+1s", "99999999999999999999s", "9223372036854775807h",
                          "1ss", "1sm"})
    CHECK_FALSE(parse_duration(bad).has_value());
}

TEST_CASE("durations stop at 100 years, and say when length is the only problem", "[units]") {
  CHECK(kMaxDuration == std::chrono::hours(876'000));
  CHECK(parse_duration("876000h") == kMaxDuration);
  CHECK(parse_duration("52560000m") == kMaxDuration);
  bool too_long = true;
  CHECK(parse_duration("1s", &too_long) == 1s);
  CHECK_FALSE(too_long);
  // 3000000h fits an int64 of milliseconds, but not now + it in a clock of nanoseconds.
  for (const char* big : {"876000h1ms", "876001h", "3000000h", "31536000000s", "99999999999999999999s",
                          "9223372036854775807h", "9223372036854775.999s", "1h99999999999999999999m"}) {
    INFO(big);
    too_long = false;
    CHECK_FALSE(parse_duration(big, &too_long).has_value());
    CHECK(too_long);
  }
  for (const char* bad : {"99999999999999999999x", "1x", "", "-3000000h"}) {
    INFO(bad);
    too_long = true;
    CHECK_FALSE(parse_duration(bad, &too_long).has_value());
    CHECK_FALSE(too_long);
  }
}

TEST_CASE("durations format to the shortest spelling", "[units]") {
  CHECK(format_duration(1500ms) == "1.5s");
  CHECK(format_duration(250ms) == "250ms");
  CHECK(format_duration(Millis(120'000)) == "2m");
  CHECK(format_duration(Millis(90'000)) == "1m30s");
  CHECK(format_duration(Millis(3'600'000)) == "1h");
  CHECK(format_duration(3s) == "3s");
  CHECK(format_duration(0ms) == "0s");
  CHECK(format_duration(Millis(1001)) == "1.001s");
  for (Millis d : {1ms, 999ms, 1000ms, 1234ms, Millis(61'500), Millis(3'723'004)})
    CHECK(parse_duration(format_duration(d)) == d);
}

TEST_CASE("sizes parse as bytes or KiB, MiB, GiB", "[units]") {
  CHECK(parse_size("1024") == 1024u);
  CHECK(parse_size("64KiB") == 64u * 1024);
  CHECK(parse_size("1MiB") == 1u << 20);
  CHECK(parse_size("2GiB") == std::size_t(2) << 30);
  CHECK(parse_size("0") == 0u);
  for (const char* bad : {"", "-1", "1KB", "1kib", "1.5MiB", "MiB", "1 MiB", "99999999999999999999",
                          "17179869184GiB", "1MiBx"})
    CHECK_FALSE(parse_size(bad).has_value());
}

TEST_CASE("signals parse by name, short name or number", "[units]") {
  CHECK(parse_signal("SIGTERM") == 15);
  CHECK(parse_signal("TERM") == 15);
  CHECK(parse_signal("term") == 15);
  CHECK(parse_signal("sigint") == 2);
  CHECK(parse_signal("15") == 15);
  CHECK(parse_signal("9") == 9);
  CHECK(parse_signal("64") == 64);
  CHECK(parse_signal("SIGHUP") == 1);
  CHECK(parse_signal("SIGUSR1") == 10);
  CHECK(parse_signal("SIGRTMIN") == SIGRTMIN);
  CHECK(parse_signal("SIGRTMIN+2") == SIGRTMIN + 2);
  CHECK(parse_signal("RTMAX-1") == SIGRTMAX - 1);
  for (const char* bad : {"", "0", "65", "-15", "SIGFOO", "SIG", "15x", "SIGRTMIN+99", "SIGRTMIN-1",
                          "SIGRTMAX+1", "99999999999999999999", "SIG TERM"})
    CHECK_FALSE(parse_signal(bad).has_value());
}

TEST_CASE("signal_names lists what parse_signal reads", "[units]") {
  auto names = signal_names();
  CHECK(names.size() > 30);
  for (const auto& n : names) {
    INFO(n);
    CHECK(n.rfind("SIG", 0) == 0);
    CHECK(parse_signal(n).has_value());
  }
}

TEST_CASE("signal names", "[units]") {
  CHECK(signal_name(15) == "SIGTERM");
  CHECK(signal_name(9) == "SIGKILL");
  CHECK(signal_name(2) == "SIGINT");
  CHECK(signal_name(SIGRTMIN) == "SIGRTMIN");
  CHECK(signal_name(SIGRTMIN + 1) == "SIGRTMIN+1");
  CHECK(signal_name(32) == "SIG32");
  CHECK(signal_name(99) == "SIG99");
  for (int sig = 1; sig <= 64; ++sig) CHECK(parse_signal(signal_name(sig)) == sig);
}
