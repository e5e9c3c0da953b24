/* Unit tests for frame-name cleaning: Rust, C++ and C names, gdb's "0x... in " lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "profiler/profiler_internal.h"

static const struct {
	const char *in, *out;
} cases[] = {
	/* Asterinas frames as OSDK's gdb loop records them. */
	{ "aster_nix::sched::priority_scheduler::{impl#1}::local_mut_rq_with<ostd::task::Task> (...)",
	  "aster_nix::sched::priority_scheduler::local_mut_rq_with" },
	{ "ostd::task::scheduler::{impl#0}::yield_now::{closure#0}<()> ()",
	  "ostd::task::scheduler::yield_now" },
	{ "0xffffffff8811d3a1 in ostd::arch::x86::cpu::local::{impl#0}::get<u32> (...)",
	  "ostd::arch::x86::cpu::local::get" },
	{ "core::ptr::drop_in_place<alloc::sync::Arc<ostd::task::Task, alloc::alloc::Global>> ()",
	  "core::ptr::drop_in_place" },
	{ "<ostd::task::Task as core::ops::drop::Drop>::drop (...)", "ostd::task::Task::drop" },
	{ "<alloc::vec::Vec<u8> as core::clone::Clone>::clone", "alloc::vec::Vec::clone" },
	{ "alloc::vec::{{closure}}::foo", "alloc::vec::foo" },
	/* C++ */
	{ "std::vector<int, std::allocator<int> >::push_back(int const&)", "std::vector::push_back" },
	{ "std::map<int, std::vector<int> >::operator[](int const&)", "std::map::operator[]" },
	{ "Foo::operator<(Foo const&) const", "Foo::operator<" },
	{ "std::operator<< <std::char_traits<char> >(std::ostream&, char const*)", "std::operator<<" },
	{ "Bar::operator<<=(int)", "Bar::operator<<=" },
	{ "Baz::operator->() const", "Baz::operator->" },
	{ "Functor::operator()(int)", "Functor::operator()" },
	{ "Functor::operator()", "Functor::operator()" },
	{ "(anonymous namespace)::helper(int)", "(anonymous namespace)::helper" },
	{ "ns::f(void (*)(int), char)", "ns::f" },
	/* C names pass through unchanged. */
	{ "work_leaf", "work_leaf" },
	{ "cpu_work", "cpu_work" },
	{ "do_syscall_64", "do_syscall_64" },
	{ "memcpy.constprop.0", "memcpy.constprop.0" },
	{ "0x0000000000401136 in work_leaf ()", "work_leaf" },
	{ "  spaced   name  ", "spaced name" },
	{ "??", "??" },
	/* Nothing left after cleaning: keep the input. */
	{ "()", "()" },
	/* Unbalanced input is left alone rather than mangled further. */
	{ "broken<generic::name", "broken<generic::name" },
};

static void test_cases(void **state)
{
	struct cleaner *c;

	(void)state;
	assert_int_equal(cleaner_new(&c), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = cleaner_clean(c, cases[i].in);

		assert_non_null(got);
		if (strcmp(got, cases[i].out))
			fail_msg("clean(\"%s\") = \"%s\", wanted \"%s\"", cases[i].in, got,
				 cases[i].out);
		free(got);
	}
	cleaner_free(c);
}

static void test_deep_nesting(void **state)
{
	struct cleaner *c;
	char *in = malloc(20010), *got;

	(void)state;
	/* 10000 nested generics must neither crash nor hang; the result is the bare path. */
	strcpy(in, "a::b");
	for (int i = 0; i < 5000; i++)
		strcat(in, "<x");
	for (int i = 0; i < 5000; i++)
		strcat(in, ">");
	assert_int_equal(cleaner_new(&c), 0);
	got = cleaner_clean(c, in);
	assert_non_null(got);
	assert_true(strlen(got) <= strlen(in));
	free(got);
	free(in);
	cleaner_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_deep_nesting),
	};
	return cmocka_run_group_tests_name("profiler cleaner", tests, NULL, NULL);
}
