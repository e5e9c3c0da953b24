/*
 * The two ACPI structures every table walk starts from, as the ACPI specification (5.2.5.3,
 * 5.2.6) lays them out: the RSDP (revision 2, with the XSDT) and the header each system
 * description table begins with.  The monitor writes them (vmm/acpi.c) and the test kernel
 * reads them back to find its CPUs in the MADT (guest/acpi.c); it needs only <stdint.h>, so
 * the freestanding test kernel can include it.
 */
#ifndef KPROF_ABI_ACPI_H
#define KPROF_ABI_ACPI_H

#include <stdint.h>

struct acpi_rsdp {
	char sig[8];			/* "RSD PTR " */
	uint8_t checksum;		/* over the first 20 bytes (the ACPI 1.0 part) */
	char oem_id[6];
	uint8_t revision;		/* 2 and up: the fields from length on exist */
	uint32_t rsdt;
	uint32_t length;
	uint64_t xsdt;
	uint8_t ext_checksum;		/* over length bytes */
	uint8_t reserved[3];
} __attribute__((packed));

struct acpi_header {
	char sig[4];			/* "APIC", "FACP", "XSDT", ... */
	uint32_t length;		/* of the whole table, this header included */
	uint8_t revision;
	uint8_t checksum;		/* the whole table sums to 0 */
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	char creator_id[4];
	uint32_t creator_revision;
} __attribute__((packed));

#endif
