/* Double/triple fault classification. */
#include "event.h"

enum cls { BENIGN, CONTRIBUTORY, PAGE_FAULT, DOUBLE_FAULT };

static enum cls classify(u8 v)
{
	switch (v) {
	case 0:
	case 10:
	case 11:
	case 12:
	case 13:
		return CONTRIBUTORY;
	case 14:
		return PAGE_FAULT;
	case 8:
		return DOUBLE_FAULT;
	default:
		return BENIGN;
	}
}

enum event_merge_result event_merge(u8 first_vector, u8 second_vector)
{
	enum cls a = classify(first_vector), b = classify(second_vector);
	if (a == DOUBLE_FAULT)
		return b == BENIGN ? MERGE_SECOND : MERGE_TRIPLE_FAULT;
	if ((a == CONTRIBUTORY && b == CONTRIBUTORY) ||
	    (a == PAGE_FAULT && (b == CONTRIBUTORY || b == PAGE_FAULT)))
		return MERGE_DOUBLE_FAULT;
	return MERGE_SECOND;
}

bool exception_has_error_code(u8 vector)
{
	switch (vector) {
	case 8:
	case 10:
	case 11:
	case 12:
	case 13:
	case 14:
	case 17:
	case 21:
	case 29:
	case 30:
		return true;
	default:
		return false;
	}
}
