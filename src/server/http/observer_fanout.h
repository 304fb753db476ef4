// ObserverFanout: tells several exchange observers (metrics and traces, the audit log) about each
// request, in the order they were given.
#pragma once

#include <memory>
#include <vector>

#include "server/http/exchange_observer.h"

namespace inferd::server {

class ObserverFanout : public ExchangeObserver {
 public:
  explicit ObserverFanout(std::vector<std::shared_ptr<ExchangeObserver>> observers) : observers_(std::move(observers)) {}
  void on_exchange_end(const ExchangeRecord& record) override {
    for (const auto& o : observers_) o->on_exchange_end(record);
  }

 private:
  const std::vector<std::shared_ptr<ExchangeObserver>> observers_;
};

}  // namespace inferd::server
