/* realmode guest: the low-memory layout and the result slots that realmode.c and the
 * 16-bit code in realmode16.S share. Slots are byte offsets into the data block; the C
 * side zeroes the block before each trip to real mode. */
#ifndef TG_REALMODE_H
#define TG_REALMODE_H

#define RM_BASE	    0x7000 /* where the 16-bit blob is copied: real-mode CS:0 */
#define RM_SEG	    0x0700
#define RM_BLOB_MAX 0x1000
#define RM_DATA	    0x8000 /* the data block: DS:RM_DOFF in real mode (DS = RM_SEG) */
#define RM_DOFF	    (RM_DATA - RM_BASE)
#define RM_DATA_LEN 0x400
#define RM_IVT2	    0x9000 /* the second interrupt vector table LIDT moves to */
#define RM_STACK    0x7000 /* real-mode SS:SP = 0:RM_STACK, growing down */
#define RM_FAR_SEG  0x0600 /* the blob seen from another segment: offsets + 0x1000 */
#define RM_FAR_OFF  ((RM_SEG - RM_FAR_SEG) << 4)
#define RM_ES_SEG   0x2000 /* segment arithmetic: ES:0x10 is linear 0x20010 */
#define RM_ES_OFF   0x10

/* the GDT the trips use (realmode16.S): flat 32-bit code and data like the library's, and
 * 16-bit code (base RM_BASE) and data (base 0) with 64 KiB limits to leave PM through */
#define RM_CS32 0x08
#define RM_DS32 0x10
#define RM_CS16 0x18
#define RM_DS16 0x20

/* vectors the tests use */
#define RM_VEC_INT    0x40  /* INT n */
#define RM_VEC_LIMIT  0x41  /* just past the small IVT limit */
#define RM_IVT_SMALL  0x103 /* limit that ends with vector 0x40 */
#define RM_IRQ_BASE   0x50  /* the master 8259's vectors while in real mode */
#define RM_VEC_MARKED 0x140 /* what the second table's INT 0x40 stub records */
#define RM_TICKS      5	    /* IRQ0 ticks the real-mode HLT loop waits for */

/* inputs */
#define D_TEST	  0x00 /* offset in the blob of the routine to run */
#define D_LMSW	  0x04 /* 1: go back to PM with LMSW instead of MOV to CR0 */
#define D_SKIP	  0x08 /* bytes the recording handler adds to the IP it returns to */
#define D_TF_STOP 0x0c /* #DB records after which the recording handler clears TF */
/* outputs */
#define D_NREC	  0x10 /* records taken (all handler runs, also past D_REC_MAX) */
#define D_TICKS	  0x14 /* IRQ0 handler runs */
#define D_IRQ_IP  0x18 /* IP the last IRQ0 pushed */
#define D_IRQ_CS  0x1c
#define D_V(n)	  (0x40 + 4 * (n)) /* routine results, 32 words */
#define D_REC	  0x100 /* recording handler: vector, IP, CS, FLAGS pushed, FLAGS inside */
#define D_REC_LEN 20
#define D_REC_MAX 16

#endif
