"""The governance registers in the admin, one module per register."""

from governance.care_admin import *  # noqa: F401, F403
from governance.draw_admin import *  # noqa: F401, F403
from governance.exam_admin import *  # noqa: F401, F403
from governance.letter_admin import *  # noqa: F401, F403
from governance.pledge_admin import *  # noqa: F401, F403
