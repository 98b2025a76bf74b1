#pragma once
// Beast/Asio includes and short names for the socket layer. Asio and Beast are
// compiled once (asio_impl.cpp); this header only declares.

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace roomcast::net {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;
using beast_request = http::request<http::string_body>;
}  // namespace roomcast::net
