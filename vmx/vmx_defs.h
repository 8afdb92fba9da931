/* Architectural VMX constants: control bits, exit reasons, event-injection format. */
#ifndef KEEL_VMX_DEFS_H
#define KEEL_VMX_DEFS_H

#include "../hypervisor/types.h"

/* pin-based controls */
#define PIN_EXT_INTR_EXIT BIT(0)
#define PIN_NMI_EXIT	  BIT(3)
#define PIN_VIRTUAL_NMIS  BIT(5)
#define PIN_PREEMPT_TIMER BIT(6)
#define PIN_POSTED_INTR	  BIT(7)

/* primary processor-based controls */
#define PROC_INTR_WINDOW    BIT(2)
#define PROC_TSC_OFFSET	    BIT(3)
#define PROC_HLT_EXIT	    BIT(7)
#define PROC_INVLPG_EXIT    BIT(9)
#define PROC_MWAIT_EXIT	    BIT(10)
#define PROC_RDPMC_EXIT	    BIT(11)
#define PROC_RDTSC_EXIT	    BIT(12)
#define PROC_CR3_LOAD_EXIT  BIT(15)
#define PROC_CR3_STORE_EXIT BIT(16)
#define PROC_CR8_LOAD_EXIT  BIT(19)
#define PROC_CR8_STORE_EXIT BIT(20)
#define PROC_TPR_SHADOW	    BIT(21)
#define PROC_NMI_WINDOW	    BIT(22)
#define PROC_MOV_DR_EXIT    BIT(23)
#define PROC_UNCOND_IO_EXIT BIT(24)
#define PROC_IO_BITMAPS	    BIT(25)
#define PROC_MTF	    BIT(27)
#define PROC_MSR_BITMAPS    BIT(28)
#define PROC_MONITOR_EXIT   BIT(29)
#define PROC_PAUSE_EXIT	    BIT(30)
#define PROC_SECONDARY	    BIT(31)

/* secondary processor-based controls */
#define PROC2_VIRT_APIC_ACCESS BIT(0)
#define PROC2_EPT	       BIT(1)
#define PROC2_DESC_TABLE_EXIT  BIT(2)
#define PROC2_RDTSCP	       BIT(3)
#define PROC2_VIRT_X2APIC      BIT(4)
#define PROC2_VPID	       BIT(5)
#define PROC2_WBINVD_EXIT      BIT(6)
#define PROC2_UNRESTRICTED     BIT(7)
#define PROC2_APIC_REG_VIRT    BIT(8)
#define PROC2_VIRT_INTR_DELIV  BIT(9)
#define PROC2_PAUSE_LOOP_EXIT  BIT(10)
#define PROC2_RDRAND_EXIT      BIT(11)
#define PROC2_INVPCID	       BIT(12)
#define PROC2_VMFUNC	       BIT(13)
#define PROC2_VMCS_SHADOW      BIT(14)
#define PROC2_RDSEED_EXIT      BIT(16)
#define PROC2_PML	       BIT(17)
#define PROC2_EPT_VE	       BIT(18)
#define PROC2_XSAVES	       BIT(20)
#define PROC2_TSC_SCALING      BIT(25)

/* VM-exit controls */
#define EXIT_SAVE_DEBUG	      BIT(2)
#define EXIT_HOST_64	      BIT(9)
#define EXIT_LOAD_PERF_GLOBAL BIT(12)
#define EXIT_ACK_INTR	      BIT(15)
#define EXIT_SAVE_PAT	      BIT(18)
#define EXIT_LOAD_PAT	      BIT(19)
#define EXIT_SAVE_EFER	      BIT(20)
#define EXIT_LOAD_EFER	      BIT(21)
#define EXIT_SAVE_PREEMPT     BIT(22)

/* VM-entry controls */
#define ENTRY_LOAD_DEBUG  BIT(2)
#define ENTRY_IA32E_GUEST BIT(9)
#define ENTRY_LOAD_PAT	  BIT(14)
#define ENTRY_LOAD_EFER	  BIT(15)

/* EPT/VPID capability MSR */
#define EPTCAP_EXEC_ONLY     BIT(0)
#define EPTCAP_PWL4	     BIT(6)
#define EPTCAP_UC	     BIT(8)
#define EPTCAP_WB	     BIT(14)
#define EPTCAP_2M	     BIT(16)
#define EPTCAP_1G	     BIT(17)
#define EPTCAP_INVEPT	     BIT(20)
#define EPTCAP_AD	     BIT(21)
#define EPTCAP_INVEPT_SINGLE BIT(25)
#define EPTCAP_INVEPT_ALL    BIT(26)
#define VPIDCAP_INVVPID	     BIT(32)
#define VPIDCAP_ADDR	     BIT(40)
#define VPIDCAP_SINGLE	     BIT(41)
#define VPIDCAP_ALL	     BIT(42)

/* Basic exit reasons, from vmx/exit_reasons.def. */
enum exit_reason {
#define EXIT_REASON(name, num, handler) EXIT_##name = num,
#include "exit_reasons.def"
#undef EXIT_REASON
	EXIT_REASON_MAX = 80,
};

#define EXIT_REASON_ENTRY_FAIL BIT(31)

/* Interruption-information format (entry injection, exit info, IDT vectoring). */
#define INTR_INFO_VECTOR_MASK 0xff
#define INTR_INFO_TYPE_SHIFT  8
#define INTR_INFO_TYPE_MASK   (7u << 8)
#define INTR_INFO_ERROR_VALID BIT(11)
#define INTR_INFO_NMI_UNBLOCK BIT(12)
#define INTR_INFO_VALID	      BIT(31)

enum intr_type {
	INTR_TYPE_EXT = 0,
	INTR_TYPE_NMI = 2,
	INTR_TYPE_HW_EXCEPTION = 3,
	INTR_TYPE_SW_INTR = 4,
	INTR_TYPE_PRIV_SW_EXCEPTION = 5,
	INTR_TYPE_SW_EXCEPTION = 6,
	INTR_TYPE_OTHER = 7,
};

/* Guest interruptibility state */
#define INTERRUPTIBILITY_STI	BIT(0)
#define INTERRUPTIBILITY_MOV_SS BIT(1)
#define INTERRUPTIBILITY_SMI	BIT(2)
#define INTERRUPTIBILITY_NMI	BIT(3)

/* Exceptions */
#define EXC_DE	0
#define EXC_DB	1
#define EXC_NMI 2
#define EXC_BP	3
#define EXC_OF	4
#define EXC_UD	6
#define EXC_NM	7
#define EXC_DF	8
#define EXC_TS	10
#define EXC_NP	11
#define EXC_SS	12
#define EXC_GP	13
#define EXC_PF	14
#define EXC_MF	16
#define EXC_AC	17
#define EXC_MC	18

/* CR bits */
#define CR0_PE	       BIT(0)
#define CR0_MP	       BIT(1)
#define CR0_EM	       BIT(2)
#define CR0_TS	       BIT(3)
#define CR0_ET	       BIT(4)
#define CR0_NE	       BIT(5)
#define CR0_WP	       BIT(16)
#define CR0_AM	       BIT(18)
#define CR0_NW	       BIT(29)
#define CR0_CD	       BIT(30)
#define CR0_PG	       BIT(31)
#define CR4_VME	       BIT(0)
#define CR4_PVI	       BIT(1)
#define CR4_TSD	       BIT(2)
#define CR4_DE	       BIT(3)
#define CR4_PSE	       BIT(4)
#define CR4_PAE	       BIT(5)
#define CR4_MCE	       BIT(6)
#define CR4_PGE	       BIT(7)
#define CR4_PCE	       BIT(8)
#define CR4_OSFXSR     BIT(9)
#define CR4_OSXMMEXCPT BIT(10)
#define CR4_UMIP       BIT(11)
#define CR4_LA57       BIT(12)
#define CR4_VMXE       BIT(13)
#define CR4_SMXE       BIT(14)
#define CR4_FSGSBASE   BIT(16)
#define CR4_PCIDE      BIT(17)
#define CR4_OSXSAVE    BIT(18)
#define CR4_SMEP       BIT(20)
#define CR4_SMAP       BIT(21)
#define CR4_PKE	       BIT(22)

#define EFER_SCE BIT(0)
#define EFER_LME BIT(8)
#define EFER_LMA BIT(10)
#define EFER_NXE BIT(11)

#define RFLAGS_CF    BIT(0)
#define RFLAGS_FIXED BIT(1)
#define RFLAGS_TF    BIT(8)
#define RFLAGS_IF    BIT(9)
#define RFLAGS_RF    BIT(16)
#define RFLAGS_VM    BIT(17)

#endif
