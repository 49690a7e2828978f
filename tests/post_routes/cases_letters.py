"""POST cases of letters to parents (致家长的一封信, /letters/): a school's manager writes to
its own parents (another school is refused, naming the rule)."""

from django.urls import reverse

from governance.letter_models import ParentLetter, ParentLetterDelivery
from tests.post_routes import Case, case


@case(
    "letter:compose",
    refused=("anonymous", "teacher", "parent", "bureau_afterschool", "staff_without_group"),
)
def compose(w):
    return Case(
        url=reverse("letter:compose"),
        user=w.principal_a,
        valid={"title": "致家长的一封信", "body": "请注意假期安全。", "grades": [3]},
        state=lambda: (ParentLetter.objects.count(), ParentLetterDelivery.objects.count()),
        audit="governance.letter.sent",
        invalid={"title": "致家长的一封信", "body": "请注意假期安全。", "schools": [w.school_b.pk]},
        error="学校只能向本校家长发信，不能选择其他学校。",
    )
