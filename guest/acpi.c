/*
 * acpi.c: find the CPUs the standard way, in the ACPI MADT.
 *
 * RSDP from hvm_start_info when the loader passes one, else the BIOS area scan
 * (0xe0000-0xfffff).  XSDT, or the RSDT for ACPI 1.0, leads to the "APIC"
 * table; its Processor Local APIC (type 0) and x2APIC (type 9) entries with the
 * enabled flag are the CPUs.  The BSP is listed first in struct machine.  The
 * first I/O APIC entry (type 1) with GSI base 0 is kept for the serial port's IRQ.
 */
#include "kernel.h"

#include "abi/acpi.h"

struct madt {
	struct acpi_header h;
	uint32_t lapic_addr;
	uint32_t flags;
	uint8_t entries[];
} __attribute__((packed));

#define IDENTITY_LIMIT 0x100000000ULL
#define LAPIC_DEFAULT 0xfee00000ULL

static int checksum_ok(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + b[i]);
	return sum == 0;
}

static const struct acpi_rsdp *rsdp_check(uint64_t paddr)
{
	const struct acpi_rsdp *r = (const struct acpi_rsdp *)(uintptr_t)paddr;

	if (paddr == 0 || paddr + sizeof(*r) > IDENTITY_LIMIT)
		return NULL;
	if (memcmp(r->sig, "RSD PTR ", 8) != 0 || !checksum_ok(r, 20))
		return NULL;
	if (r->revision >= 2 && !checksum_ok(r, r->length < sizeof(*r) ? sizeof(*r) : r->length))
		return NULL;
	return r;
}

static const struct acpi_rsdp *rsdp_find(const struct hvm_start_info *si)
{
	const struct acpi_rsdp *r;

	if (si && si->rsdp_paddr) {
		r = rsdp_check(si->rsdp_paddr);
		if (r)
			return r;
		kprintf("acpi: rsdp at 0x%llx from start info is invalid, scanning\n",
			(unsigned long long)si->rsdp_paddr);
	}
	for (uint64_t a = 0xe0000; a < 0x100000; a += 16) {
		r = rsdp_check(a);
		if (r)
			return r;
	}
	return NULL;
}

static const struct acpi_header *sdt_at(uint64_t paddr, const char *sig)
{
	const struct acpi_header *h = (const struct acpi_header *)(uintptr_t)paddr;

	if (paddr == 0 || paddr + sizeof(*h) > IDENTITY_LIMIT)
		return NULL;
	if (sig && memcmp(h->sig, sig, 4) != 0)
		return NULL;
	if (h->length < sizeof(*h) || paddr + h->length > IDENTITY_LIMIT)
		return NULL;
	if (!checksum_ok(h, h->length)) {
		kprintf("acpi: table %c%c%c%c at 0x%llx has a bad checksum\n", h->sig[0],
			h->sig[1], h->sig[2], h->sig[3], (unsigned long long)paddr);
		return NULL;
	}
	return h;
}

static const struct madt *madt_find(const struct acpi_rsdp *r)
{
	const struct acpi_header *root;
	int wide = r->revision >= 2 && r->xsdt != 0;
	size_t esize = wide ? 8 : 4;

	root = wide ? sdt_at(r->xsdt, "XSDT") : sdt_at(r->rsdt, "RSDT");
	if (!root)
		return NULL;
	const uint8_t *ent = (const uint8_t *)(root + 1);
	size_t n = (root->length - sizeof(*root)) / esize;

	for (size_t i = 0; i < n; i++) {
		uint64_t a;

		if (wide)
			memcpy(&a, ent + i * 8, 8);
		else {
			uint32_t a32;

			memcpy(&a32, ent + i * 4, 4);
			a = a32;
		}
		const struct acpi_header *h = sdt_at(a, "APIC");
		if (h && h->length >= sizeof(struct madt))
			return (const struct madt *)h;
	}
	return NULL;
}

static void add_cpu(struct machine *m, uint32_t apic_id, uint32_t bsp_id)
{
	for (uint32_t i = 0; i < m->ncpus; i++) {
		if (m->apic_ids[i] == apic_id)
			return;		/* listed as both type 0 and type 9 */
	}
	if (apic_id == bsp_id) {
		/* keep the BSP at index 0 */
		if (m->ncpus == 0) {
			m->apic_ids[m->ncpus++] = apic_id;
			return;
		}
		if (m->ncpus == MAX_CPUS) {
			m->apic_ids[MAX_CPUS - 1] = m->apic_ids[0];
		} else {
			m->apic_ids[m->ncpus++] = m->apic_ids[0];
		}
		m->apic_ids[0] = apic_id;
		return;
	}
	if (m->ncpus == MAX_CPUS) {
		kprintf("acpi: more than %u cpus, ignoring apic %u\n", MAX_CPUS, apic_id);
		return;
	}
	m->apic_ids[m->ncpus++] = apic_id;
}

void acpi_find_cpus(const struct hvm_start_info *si, struct machine *m)
{
	uint32_t bsp = lapic_id();
	const struct acpi_rsdp *r = rsdp_find(si);
	const struct madt *madt;

	m->ncpus = 0;
	m->ioapic_addr = 0;
	if (!r) {
		kprintf("acpi: no RSDP found, running on the boot cpu only\n");
		goto single;
	}
	madt = madt_find(r);
	if (!madt) {
		kprintf("acpi: no MADT found, running on the boot cpu only\n");
		goto single;
	}
	kprintf("acpi: rsdp 0x%llx revision %u, madt 0x%llx\n",
		(unsigned long long)(uintptr_t)r, r->revision,
		(unsigned long long)(uintptr_t)madt);
	if (madt->lapic_addr != LAPIC_DEFAULT)
		kprintf("acpi: madt lapic address 0x%x, using 0x%llx (the mapped one)\n",
			madt->lapic_addr, (unsigned long long)LAPIC_DEFAULT);

	const uint8_t *p = madt->entries;
	const uint8_t *end = (const uint8_t *)madt + madt->h.length;

	while (p + 2 <= end && p[1] >= 2 && p + p[1] <= end) {
		uint32_t flags, id;

		if (p[0] == 0 && p[1] >= 8) {		/* Processor Local APIC */
			memcpy(&flags, p + 4, 4);
			if (flags & 1)
				add_cpu(m, p[3], bsp);
		} else if (p[0] == 1 && p[1] >= 12 && !m->ioapic_addr) {	/* I/O APIC */
			uint32_t addr, gsi_base;

			memcpy(&addr, p + 4, 4);
			memcpy(&gsi_base, p + 8, 4);
			if (gsi_base == 0)
				m->ioapic_addr = addr;
		} else if (p[0] == 9 && p[1] >= 16) {	/* Processor Local x2APIC */
			memcpy(&id, p + 4, 4);
			memcpy(&flags, p + 8, 4);
			if (flags & 1)
				add_cpu(m, id, bsp);
		}
		p += p[1];
	}
	if (m->ncpus == 0 || m->apic_ids[0] != bsp) {
		kprintf("acpi: boot cpu (apic %u) not in the madt\n", bsp);
		add_cpu(m, bsp, bsp);
	}
	return;
single:
	m->ncpus = 1;
	m->apic_ids[0] = bsp;
}
