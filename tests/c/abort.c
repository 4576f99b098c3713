/* Calls abort(3). */
#include <stdlib.h>
int main(void) { abort(); }
