#include <stdlib.h>
__attribute__((constructor)) static void init(void) { system("touch /tmp/review39b/pwned_pt2_aoti"); }
