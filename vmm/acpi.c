/* ACPI tables for the guest: RSDP (v2) -> XSDT -> FADT (-> DSDT), MADT.
 *
 * ACPI rather than an Intel MP table, because distribution kernels are built without MP-table
 * parsing; the MADT lists one local APIC per vCPU so the guest starts the APs itself with
 * INIT/SIPI, and the FADT marks the platform hardware-reduced so no PM timer or SCI is expected. */
#include "vmm/internal.h"

#include "abi/acpi.h"

#include <errno.h>
#include <string.h>

#define FADT_LEN 276		/* revision 6 */
#define FADT_FLAGS 112
#define FADT_DSDT 40
#define FADT_X_DSDT 140
#define FADT_BOOT_ARCH 109
#define FADT_MINOR 131
#define FADT_HV_VENDOR 268
#define FADT_HW_REDUCED (1u << 20)
#define FADT_PWR_BUTTON (1u << 4)
#define FADT_SLP_BUTTON (1u << 5)
#define BOOT_ARCH_NO_VGA (1u << 2)
#define BOOT_ARCH_NO_CMOS (1u << 5)

static uint8_t checksum(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint8_t s = 0;

	for (size_t i = 0; i < n; i++)
		s += b[i];
	return (uint8_t)(0 - s);
}

static void header(struct acpi_header *h, const char *sig, uint32_t len, uint8_t rev)
{
	memset(h, 0, sizeof(*h));
	memcpy(h->sig, sig, 4);
	h->length = len;
	h->revision = rev;
	memcpy(h->oem_id, "KPROF ", 6);
	memcpy(h->oem_table_id, "KPROFVM ", 8);
	h->oem_revision = 1;
	memcpy(h->creator_id, "KPRF", 4);
	h->creator_revision = 1;
}

static uint64_t align16(uint64_t v)
{
	return (v + 15) & ~15ull;
}

int vmm_acpi_write(struct vmm *vm, uint64_t addr, uint64_t *rsdp_out)
{
	uint8_t *mem = vm->mem.base;
	uint64_t rsdp = addr, xsdt, fadt, madt, dsdt, end;
	unsigned n = vm->ncpus;
	uint32_t madt_len = sizeof(struct acpi_header) + 8 + 8 * n + 12 + 10;

	xsdt = align16(rsdp + sizeof(struct acpi_rsdp));
	fadt = align16(xsdt + sizeof(struct acpi_header) + 2 * 8);
	madt = align16(fadt + FADT_LEN);
	dsdt = align16(madt + madt_len);
	end = dsdt + sizeof(struct acpi_header);
	if (end > 0x100000 || end > vm->mem.size)
		return -ENOSPC;

	/* DSDT: empty (no AML); Linux only needs it to exist. */
	struct acpi_header *h = (struct acpi_header *)(mem + dsdt);
	header(h, "DSDT", sizeof(*h), 2);
	h->checksum = checksum(h, h->length);

	/* MADT: LAPIC address, PC-AT compatible (the in-kernel 8259s exist), one LAPIC per vCPU,
	 * the IOAPIC, and the ISA IRQ0 -> GSI2 override every PC chipset has. */
	uint8_t *m = mem + madt;
	header((struct acpi_header *)m, "APIC", madt_len, 4);
	uint32_t lapic = (uint32_t)VMM_LAPIC_ADDR, flags = 1;
	memcpy(m + 36, &lapic, 4);
	memcpy(m + 40, &flags, 4);
	uint8_t *e = m + 44;
	for (unsigned i = 0; i < n; i++, e += 8) {
		uint32_t enabled = 1;
		e[0] = 0;		/* processor local APIC */
		e[1] = 8;
		e[2] = (uint8_t)i;	/* ACPI processor UID */
		e[3] = (uint8_t)i;	/* APIC id: the vCPU id, as CPUID reports it */
		memcpy(e + 4, &enabled, 4);
	}
	uint32_t ioapic = (uint32_t)VMM_IOAPIC_ADDR, gsi_base = 0;
	e[0] = 1;
	e[1] = 12;
	e[2] = (uint8_t)n;	/* IOAPIC id after the LAPIC ids */
	e[3] = 0;
	memcpy(e + 4, &ioapic, 4);
	memcpy(e + 8, &gsi_base, 4);
	e += 12;
	uint32_t gsi2 = 2;
	uint16_t iso_flags = 0;
	e[0] = 2;		/* interrupt source override */
	e[1] = 10;
	e[2] = 0;		/* ISA bus */
	e[3] = 0;		/* IRQ 0 */
	memcpy(e + 4, &gsi2, 4);
	memcpy(e + 8, &iso_flags, 2);
	m[9] = checksum(m, madt_len);

	/* FADT: hardware-reduced, points at the DSDT. */
	uint8_t *f = mem + fadt;
	header((struct acpi_header *)f, "FACP", FADT_LEN, 6);
	uint32_t fflags = FADT_HW_REDUCED | FADT_PWR_BUTTON | FADT_SLP_BUTTON;
	uint32_t dsdt32 = (uint32_t)dsdt;
	uint16_t boot_arch = BOOT_ARCH_NO_VGA | BOOT_ARCH_NO_CMOS;
	memcpy(f + FADT_FLAGS, &fflags, 4);
	memcpy(f + FADT_DSDT, &dsdt32, 4);
	memcpy(f + FADT_X_DSDT, &dsdt, 8);
	memcpy(f + FADT_BOOT_ARCH, &boot_arch, 2);
	f[FADT_MINOR] = 0;
	memcpy(f + FADT_HV_VENDOR, "KPROFVMM", 8);
	f[9] = checksum(f, FADT_LEN);

	/* XSDT: the FADT and the MADT. */
	uint8_t *x = mem + xsdt;
	uint32_t xsdt_len = sizeof(struct acpi_header) + 16;
	header((struct acpi_header *)x, "XSDT", xsdt_len, 1);
	memcpy(x + 36, &fadt, 8);
	memcpy(x + 44, &madt, 8);
	x[9] = checksum(x, xsdt_len);

	struct acpi_rsdp *r = (struct acpi_rsdp *)(mem + rsdp);
	memset(r, 0, sizeof(*r));
	memcpy(r->sig, "RSD PTR ", 8);
	memcpy(r->oem_id, "KPROF ", 6);
	r->revision = 2;
	r->length = sizeof(*r);
	r->xsdt = xsdt;
	r->checksum = checksum(r, 20);
	r->ext_checksum = checksum(r, sizeof(*r));
	*rsdp_out = rsdp;
	return 0;
}
