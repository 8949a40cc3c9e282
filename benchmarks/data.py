"""Generated learning data for the benchmarks (benchmarks.run, benchmarks.load).

Call after django.setup() with the demo courses loaded: the functions add to
the demo catalogue through the project's factories and services.
"""


def add_courses(count: int, enrolments: int) -> tuple:  # type: ignore[no-untyped-def]
    """`count` courses with two lessons each in the demo catalogue, and
    `enrolments` enrolments spread over generated learners; returns the
    learner whose pages are measured and a course and lesson of theirs."""
    from courses.models import CourseIndexPage, CoursePage, Enrolment
    from courses.services import enrolment_self, lesson_mark_complete
    from portal.models import User
    from testing.courses.factories import CoursePageFactory, LessonPageFactory
    from testing.courses.reading import read_for_the_minimum_time

    catalogue = CourseIndexPage.objects.get()
    existing = CoursePage.objects.count()
    for n in range(existing, count):
        course = CoursePageFactory(
            parent=catalogue, slug=f"bench-{n}", title=f"基准课程 {n}"
        )
        LessonPageFactory(parent=course, slug="one")
        LessonPageFactory(parent=course, slug="two")
    courses = list(
        CoursePage.objects.order_by("pk").values_list("pk", "title", "credit_hours")
    )
    learners = User.objects.bulk_create(
        [
            User(email=f"bench{n}@example.org", real_name=f"学员{n}")
            for n in range(enrolments // 20)
        ]
    )
    Enrolment.objects.bulk_create(
        [
            Enrolment(
                user=learner,
                course_id=pk,
                course_key=pk,
                course_title=title,
                credit_hours=hours,
            )
            for i, learner in enumerate(learners)
            for pk, title, hours in courses[(i * 20) % len(courses) :][:20]
        ],
        ignore_conflicts=True,
    )
    learner = User.objects.create_user(
        email="bench-learner@example.org", password="bench-pass-2027"
    )
    mine = list(
        CoursePage.objects.filter(slug__startswith="bench-").order_by("pk")[:20]
    )
    for course in mine:
        enrolment_self(user=learner, course=course)
    lesson = mine[0].get_children().live().first().specific
    # Opened and read for its minimum time first, as the service requires.
    read_for_the_minimum_time(learner, lesson)
    lesson_mark_complete(user=learner, lesson=lesson)
    return learner, mine[0], lesson


def add_learners(
    count: int, courses_each: int, *, started: int, completed: int
) -> list[tuple]:  # type: ignore[type-arg]
    """`count` learners, each enrolled (enrolment_self) in `courses_each`
    generated courses of their own, with the first lesson completed in
    `started` of them and both lessons, so the course, in `completed` of those
    (lesson_mark_complete: ledger entry and certificate request included).

    Returns (learner, [(course, [lessons])]) per learner; their courses are
    bench-N courses from add_courses, taken from the end of the catalogue so
    that they differ from add_courses' own measured learner's.
    """
    from courses.models import CoursePage, LessonPage
    from courses.services import enrolment_self, lesson_mark_complete
    from portal.models import User
    from testing.courses.reading import read_for_the_minimum_time

    generated = list(
        CoursePage.objects.filter(slug__startswith="bench-").order_by("-pk")
    )
    if len(generated) < courses_each:
        raise SystemExit(f"Only {len(generated)} generated courses; stopping.")
    result = []
    for n in range(count):
        learner = User.objects.create_user(
            email=f"load{n}@example.org", real_name=f"压测学员{n}"
        )
        start = (n * courses_each) % len(generated)
        theirs = (generated[start:] + generated[:start])[:courses_each]
        enrolled = []
        for i, course in enumerate(theirs):
            enrolment_self(user=learner, course=course)
            lessons = list(LessonPage.objects.child_of(course).live().order_by("path"))
            done = lessons[:2] if i < completed else lessons[:1] if i < started else []
            for lesson in done:
                read_for_the_minimum_time(learner, lesson)
                lesson_mark_complete(user=learner, lesson=lesson)
            enrolled.append((course, lessons))
        result.append((learner, enrolled))
    return result


def add_accounts(
    *, learners: int, enterprises: int, password: str, courses: list, certified
) -> tuple[list[dict], list[str]]:
    """Accounts that sign in through the real login form (benchmarks.locust_run).

    `learners` learners, each with a verified primary e-mail address (the
    portal's mandatory verification), enrolled in `courses` (CoursePages) and
    owning one rendered certificate for the course `certified`; `enterprises`
    users of one verified enterprise (talent search members). All share
    `password`, hashed once (a hash per account would cost as long as the
    sign-ins themselves). Bulk inserts: set-up, not measured. Returns
    ([{"email", "certificate"}] per learner, [email] per enterprise user).
    """
    import datetime

    from allauth.account.models import EmailAddress

    from django.contrib.auth.hashers import make_password

    from courses.certificates import services as certificate_services
    from courses.models import CertificateRequest, Enrolment
    from portal.models import User
    from talentpool.models import Enterprise, EnterpriseMember

    hashed = make_password(password)
    people = User.objects.bulk_create(
        [
            User(
                email=f"learner{n}@load.example.org",
                real_name=f"学员{n}号",
                password=hashed,
            )
            for n in range(learners)
        ]
        + [
            User(
                email=f"buyer{n}@load.example.org",
                real_name=f"企业用户{n}号",
                password=hashed,
            )
            for n in range(enterprises)
        ]
    )
    EmailAddress.objects.bulk_create(
        [
            EmailAddress(user=p, email=p.email, primary=True, verified=True)
            for p in people
        ]
    )
    learner_users, buyers = people[:learners], people[learners:]
    Enrolment.objects.bulk_create(
        [
            Enrolment(
                user=user,
                course_id=course.pk,
                course_key=course.pk,
                course_title=course.title,
                credit_hours=course.credit_hours,
            )
            for user in learner_users
            for course in courses
        ]
    )
    requests = CertificateRequest.objects.bulk_create(
        [
            CertificateRequest(
                user=user,
                source_type="course",
                source_key=certified.pk,
                title=certified.title,
                hours=certified.credit_hours,
                achieved_on=datetime.date(2027, 4, 30),
            )
            for user in learner_users
        ]
    )
    certificate_ids = [
        certificate_services.certificate_issue(request_id=r.pk, render=False)[0].pk
        for r in requests
    ]
    chunk = certificate_services.RENDER_CHUNK
    for start in range(0, len(certificate_ids), chunk):
        certificate_services.certificates_render_many(
            certificate_ids=certificate_ids[start : start + chunk]
        )
    if buyers:
        enterprise = Enterprise.objects.create(
            name="压测科技有限公司",
            credit_code="91500000LOADTEST00",
            contact_name="压测联系人",
            contact_email="contact@load.example.org",
            status=Enterprise.Status.VERIFIED,
            registered_by=buyers[0],
        )
        EnterpriseMember.objects.bulk_create(
            [EnterpriseMember(enterprise=enterprise, user=user) for user in buyers]
        )
    return (
        [
            {"email": user.email, "certificate": pk}
            for user, pk in zip(learner_users, certificate_ids, strict=True)
        ],
        [user.email for user in buyers],
    )
