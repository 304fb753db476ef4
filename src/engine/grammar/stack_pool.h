// StackPool: the return-state stacks of automaton parses, as interned persistent lists. A stack
// is a node id: the node holds the topmost return state and the id of the stack below it, so
// equal stacks have equal ids and pushing shares the tail. Two ids name the bottom of a stack:
// kEmptyStack (the root rule was entered from nothing: returning from it ends the parse) and
// kBaseStack (a stand-in for an unknown stack below, used when a state is analysed on its own).
//
// Nodes are never freed before clear(); push() allocates only when the table grows.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace inferd::engine {

inline constexpr int32_t kEmptyStack = -1;
inline constexpr int32_t kBaseStack = -2;

// One parse: the current automaton state and the stack of return states below it.
struct PdaStack {
  int32_t state = -1;
  int32_t parent = kEmptyStack;
  bool operator==(const PdaStack&) const = default;
};

class StackPool {
 public:
  struct Node {
    int32_t return_state;
    int32_t parent;
  };

  StackPool();
  // The stack `parent` with `return_state` pushed on top.
  int32_t push(int32_t return_state, int32_t parent);
  // REQUIRES: id >= 0 was returned by push() since the last clear().
  const Node& node(int32_t id) const { return nodes_[static_cast<size_t>(id)]; }
  size_t size() const { return nodes_.size(); }
  void clear();

 private:
  void rehash(size_t capacity);

  std::vector<Node> nodes_;
  std::vector<int32_t> table_;  // open addressing; -1 = empty slot
  size_t mask_ = 0;
};

}  // namespace inferd::engine
