from .bulletins import BuildingProgress, ProgressBulletinIndexPage, ProgressBulletinPage  # noqa: F401
from .disclosure import AdverseFactor, AdverseFactorCategory  # noqa: F401
from .faq import FAQ, FAQCategory, FAQIndexPage  # noqa: F401
from .opendays import OpenDayIndexPage, OpenDayPage, OpenDayRegistration, OpenDaySlot  # noqa: F401
from .pages import HomePage, StandardPage  # noqa: F401
from .projects import ProjectPage  # noqa: F401
from .review import MarketingReviewTask  # noqa: F401
