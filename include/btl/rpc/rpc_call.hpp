// A parsed RPC request as the Dispatcher's methods see it (shared by the
// files that implement methods: rpc_methods.cpp, rpc_places.cpp).
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "btl/rpc/rpc_methods.hpp"

namespace btl::rpc {

struct Dispatcher::Call {
    std::string method;
    nlohmann::json args = nlohmann::json::object();
};

}  // namespace btl::rpc
