// Plain records of the back end (../shared/spec/fixtures.md) and of the bot.
// Money is in fen (1/100 yuan), times are Unix seconds.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/time.h"

namespace gridbot::storage {

struct Account {
  std::string account_no, service_password, holder, city, district, address;
  int reading_day = 0;
  std::string supply_unit, voltage_level, reading_type, usage_category, metering, settlement_unit,
      phone;
  std::int64_t balance_fen = 0;
};

struct Bill {
  std::string account_no, month;  // month "YYYY-MM"
  std::int64_t kwh = 0, amount_fen = 0;
  std::string due_date;  // "YYYY-MM-DD"
  bool paid = false;
};

struct Payment {
  std::string account_no;
  UnixSeconds paid_at = 0;
  std::int64_t amount_fen = 0;
  std::string method;
};

struct Outage {
  std::string id, city, district, area;
  UnixSeconds start = 0, end = 0;
  std::string kind, reason;
  std::vector<std::string> accounts;
};

struct BusinessStep {
  std::string name;
  UnixSeconds at = 0;
};

struct Business {
  std::string business_no, account_no, type, status;
  std::vector<BusinessStep> steps;
};

struct Outlet {
  std::string name, city, district, address;
  double lat = 0, lng = 0;
  std::string hours, phone;
};

struct PrepaidCard {
  std::string card_no, password;
  std::int64_t amount_fen = 0;
  bool used = false;
};

struct Binding {
  std::string account_no;
  bool is_default = false;
  UnixSeconds created_at = 0;
};

// Wrong-password counting for one (user, account, kind) — e.g. kind
// "service_password" for binding, "card_password" for cards.
struct AttemptState {
  int failures = 0;
  UnixSeconds locked_until = 0;
  UnixSeconds last_at = 0;  // the last failure counted (0: not known)
};

// One row of the dialog log.
struct TurnLog {
  UnixSeconds at = 0;
  std::string channel, external_id, text, normalized, intent;
  double confidence = 0;
  std::string slots_json, flow, step, replies_json;
  std::string tokens;  // the message's words, space-separated
  std::int64_t micros = 0;
  bool masked = false;
  // What happened to flow runs (dialogs/turn_state.h) and what the command
  // layer decided, for analysts.
  std::string events_json = "[]";
  std::string commands;
  bool fallback = false;
  std::string handoff;
  // What the rules alone made of the text: {"intent","confidence","slots"}
  // ("" for a masked turn); `gridbot logs replay` compares it.
  std::string nlu_json;
};

// The back end's data as loaded from a fixture file.
struct BackendData {
  std::vector<Account> accounts;
  std::vector<Bill> bills;
  std::vector<Payment> payments;
  std::vector<Outage> outages;
  std::vector<Business> business;
  std::vector<Outlet> outlets;
  std::vector<PrepaidCard> prepaid_cards;
};

}  // namespace gridbot::storage
