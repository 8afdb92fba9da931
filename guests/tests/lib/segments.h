/* The test guests' GDT selectors and the INT vector that returns from ring 3; shared by
 * the assembly entry code and the C library. */
#ifndef TG_SEGMENTS_H
#define TG_SEGMENTS_H

#define KERNEL_CS 0x08
#define KERNEL_DS 0x10
#define USER_CS	  0x18 /* used with RPL 3 */
#define USER_DS	  0x20 /* used with RPL 3 */
#define TSS_SEL	  0x28
/* 0x30 stays null: in IA-32e mode the TSS descriptor takes 16 bytes */
#define KERNEL_CS64 0x38 /* 64-bit code, for the IA-32e exception stubs (ia32e_entry.S) */

#define USER_RETURN_VECTOR 0x80

#endif
