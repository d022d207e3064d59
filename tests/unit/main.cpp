#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "scratch.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

std::string fixture(const std::string& name) {
    std::ifstream in(std::string(MODELCTL_TEST_DATA) + "/" + name, std::ios::binary);
    if (!in)
        throw std::runtime_error("missing fixture " + name);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}
