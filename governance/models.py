"""The governance registers' models, one module per register."""

from governance.care_models import *  # noqa: F401, F403
from governance.draw_models import *  # noqa: F401, F403
from governance.exam_models import *  # noqa: F401, F403
from governance.letter_models import *  # noqa: F401, F403
from governance.pledge_models import *  # noqa: F401, F403
