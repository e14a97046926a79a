#include "model/flow_shape.h"

#include <algorithm>

namespace earshot::model {

FlowShape& FlowShape::operator+=(const FlowShape& o) {
  payload_bytes += o.payload_bytes;
  packets += o.packets;
  ack_sized_packets += o.ack_sized_packets;
  ack_sized_payload += o.ack_sized_payload;
  ingress_packets += o.ingress_packets;
  ingress_payload += o.ingress_payload;
  return *this;
}

double FlowShape::explained_packets() const {
  return static_cast<double>(std::min(ack_sized_packets, ingress_packets));
}

double FlowShape::explained_payload() const {
  if (ack_sized_packets == 0) return 0;
  return static_cast<double>(ack_sized_payload) * explained_packets() /
         static_cast<double>(ack_sized_packets);
}

double FlowShape::upload_payload() const {
  return std::max(0.0, static_cast<double>(payload_bytes) - explained_payload());
}

double FlowShape::upload_packets() const {
  return std::max(0.0, static_cast<double>(packets) - explained_packets());
}

FlowShape shape_of(const Counters& growth) {
  FlowShape shape;
  shape.payload_bytes = growth.payload_bytes;
  shape.packets = growth.packets;
  shape.ack_sized_packets = growth.ack_sized_packets;
  shape.ack_sized_payload = growth.ack_sized_payload;
  shape.ingress_packets = growth.ingress_packets;
  shape.ingress_payload = growth.ingress_payload;
  return shape;
}

}  // namespace earshot::model
