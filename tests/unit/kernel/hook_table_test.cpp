#include "kernel/hook_table.h"

#include <bpf/libbpf.h>
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <set>
#include <string>

#include "common/hook_names.h"

namespace earshot::kernel::hook_table_test {
namespace {

TEST(HookTable, HasEveryHookNameOnce) {
  std::multiset<std::string_view> rows;
  for (const auto& spec : hook_table()) rows.insert(spec.hook);
  for (auto hook : hooks::kAll) EXPECT_EQ(rows.count(hook), 1u) << hook;
  EXPECT_EQ(rows.size(), hooks::kAll.size());
  EXPECT_EQ(find_hook("netfilter_ipv4@speaker")->hook, hooks::kNetfilterIpv4);
  EXPECT_EQ(find_hook("kprobe_anything"), nullptr);
}

TEST(HookTable, AProgramBelongsToOneHook) {
  std::map<std::string_view, std::string_view> owner;
  for (const auto& spec : hook_table())
    for (auto program : spec.all_programs()) {
      auto [it, inserted] = owner.emplace(program, spec.hook);
      EXPECT_TRUE(inserted) << program << " in " << spec.hook << " and " << it->second;
    }
}

TEST(HookTable, EveryCaptureTierHasRowsAndEachKernelTierStartsWithItsOpens) {
  std::map<Tier, std::vector<const HookSpec*>> by_tier;
  for (const auto& spec : hook_table())
    if (spec.tier) by_tier[*spec.tier].push_back(&spec);
  for (Tier tier : kTiers) EXPECT_FALSE(by_tier[tier].empty()) << to_string(tier);
  // The cameras' fentry rows are their own object, loaded at their row.
  for (Tier tier : {Tier::fentry, Tier::lsm}) {
    EXPECT_TRUE(by_tier[tier].front()->tier_opens) << to_string(tier);
    for (const auto* spec : by_tier[tier])
      if (spec->object != BpfObject::capture_video) {
        EXPECT_EQ(spec->object, BpfObject::capture_kernel);
      } else {
        EXPECT_FALSE(spec->tier_opens) << spec->hook;
      }
  }
}

// The table and the compiled objects agree: every program a row names is
// in its object, and every program of an object has a row (a program
// added without one would never be attached). Opening an object needs no
// privilege.
TEST(HookTable, MatchesTheProgramsOfTheBuiltObjects) {
  for (BpfObject object : {BpfObject::net, BpfObject::accept, BpfObject::capture_user,
                           BpfObject::capture_kernel, BpfObject::capture_video}) {
    std::string path =
        std::string(EARSHOT_BPF_OBJECT_DIR) + "/" + std::string(to_string(object)) + ".bpf.o";
    std::unique_ptr<bpf_object, decltype(&bpf_object__close)> obj(
        bpf_object__open_file(path.c_str(), nullptr), bpf_object__close);
    ASSERT_TRUE(obj) << path;
    std::set<std::string> in_object;
    bpf_program* program;
    bpf_object__for_each_program(program, obj.get()) in_object.insert(bpf_program__name(program));
    std::set<std::string> in_table;
    for (const auto& spec : hook_table())
      if (spec.object == object)
        for (auto p : spec.all_programs()) in_table.emplace(p);
    EXPECT_EQ(in_table, in_object) << to_string(object);
  }
}

}  // namespace
}  // namespace earshot::kernel::hook_table_test
