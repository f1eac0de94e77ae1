// Addresses of nt_record as text: the one definition, used by the NDJSON
// encoder and, through addressPair(), by the TypeScript decoder.
#pragma once

#include <napi.h>

#include <cstdint>

// ::ffff:a.b.c.d, an IPv4 peer of a dual-stack IPv6 socket.
bool V4Mapped(const uint8_t* a);

// Whether a record's pair of addresses is shown, and counted, as IPv4: an
// IPv4 socket, or an IPv6 socket whose both ends are IPv4-mapped.
bool PairIsIpv4(uint8_t family, const uint8_t* saddr, const uint8_t* daddr);

// One address at p (at most 39 characters); returns its end. `family` is the
// record's; ipv4 as PairIsIpv4() says.
char* FormatAddress(char* p, const uint8_t* a, bool ipv4, uint8_t family);

// addressPair(batch, index) -> [ipv4, saddr, daddr] of record index.
Napi::Value AddressPair(const Napi::CallbackInfo& info);
