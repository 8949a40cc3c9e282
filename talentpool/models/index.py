"""What the talent pool's search keeps of each expert: the document, the
tokens with their weights, the same tokens as bitmaps, and the log of
changes that tells every process when to reload (talentpool.search)."""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from talentpool.models.experts import Expert


class ExpertSearchDocument(models.Model):
    """What the talent pool's search knows of an expert, built by
    talentpool.search from the public fields only (never e-mail or phone):
    `text` is the normalised public text (Simplified, lower case, with the
    name's pinyin), the input an external engine would index; `facets` the
    vocabulary codes as ``key=code`` words, read with each match."""

    expert = models.OneToOneField(
        Expert,
        verbose_name=_("expert"),
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="search_document",
    )
    # facets first: a search reads them for every match, and SQLite then
    # need not step over the long text to reach them.
    facets = models.TextField(_("facet codes"), blank=True)
    text = models.TextField(_("indexed text"), blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("expert search document")
        verbose_name_plural = _("expert search documents")

    def __str__(self) -> str:
        return str(self.expert_id)


class ExpertToken(models.Model):
    """One search token of an expert and what it weighs (the weight of the
    most important field it is found in: name above categories above
    organisation above biography). A token is listed once per expert (the
    indexer keeps one weight per token). The unique index holds the weight
    too: a search then reads token, expert and weight from the index alone,
    without visiting the table, which is three times faster on SQLite with
    100,000 experts (docs/talentpool-search.md)."""

    expert = models.ForeignKey(
        Expert, verbose_name=_("expert"), on_delete=models.CASCADE, related_name="+"
    )
    token = models.CharField(_("token"), max_length=64)
    weight = models.PositiveSmallIntegerField(_("weight"))

    class Meta:
        verbose_name = _("expert search token")
        verbose_name_plural = _("expert search tokens")
        constraints = [
            models.UniqueConstraint(
                fields=["token", "expert", "weight"],
                name="talentpool_experttoken_unique",
            ),
            models.CheckConstraint(
                condition=Q(weight__gt=0), name="talentpool_experttoken_weight_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.token


class ExpertTokenBits(models.Model):
    """The experts that have a token with a weight, as bits: bit *n* of
    ``bits`` (little-endian, trailing zero bytes left out) stands for the
    expert whose id is ``chunk * 8192 + n``.

    The same facts as ExpertToken, kept by the indexer in the same
    transaction, read the other way: a word that most experts have is a
    dozen rows of at most 1 KiB here instead of tens of thousands of rows
    there, and the search combines them with integer operations
    (talentpool.search.bits; docs/talentpool-search.md)."""

    token = models.CharField(_("token"), max_length=64)
    weight = models.PositiveSmallIntegerField(_("weight"))
    chunk = models.PositiveIntegerField(_("chunk"))
    bits = models.BinaryField(_("bits"))

    class Meta:
        verbose_name = _("expert search bitmap")
        verbose_name_plural = _("expert search bitmaps")
        constraints = [
            models.UniqueConstraint(
                fields=["token", "weight", "chunk"],
                name="talentpool_experttokenbits_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.token}/{self.weight}/{self.chunk}"


class ExpertSearchChange(models.Model):
    """A write to the search index, in the same transaction as the documents
    it changed, with a random stamp. The search keeps its facet bitmaps in
    memory while the count and the sum of the stamps stay the same, so every
    process sees a committed change at its next search, and a rolled-back one
    never (talentpool.search.facets). Old rows are pruned as new ones come."""

    stamp = models.PositiveIntegerField(_("stamp"))

    class Meta:
        verbose_name = _("expert search change")
        verbose_name_plural = _("expert search changes")

    def __str__(self) -> str:
        return str(self.pk)


class SearchSynonym(models.Model):
    """What a visitor may type for something the experts' profiles say in
    other words: an abbreviation (知产 → 知识产权), a synonym (芯片 → 集成电路),
    a need (侵权 → 诉讼, 维权) or an English word (mediation → 调解). Staff
    edit them; a query word equal to `phrase` also finds each alternative.
    Read by talentpool.search.synonyms, which also adds the words to the
    segmenter's dictionary."""

    phrase = models.CharField(
        _("phrase"),
        max_length=40,
        unique=True,
        help_text=_("What a visitor types, for example 知产 or mediation."),
    )
    alternatives = models.CharField(
        _("also finds"),
        max_length=400,
        help_text=_(
            "The words the phrase also finds, separated by commas or spaces, "
            "for example 知识产权."
        ),
    )
    mutual = models.BooleanField(
        _("both ways"),
        default=False,
        help_text=_(
            "Each alternative also finds the phrase and the other alternatives."
        ),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("search synonym")
        verbose_name_plural = _("search synonyms")
        ordering = ["phrase"]

    def __str__(self) -> str:
        return f"{self.phrase} → {self.alternatives}"

    def clean(self) -> None:
        from talentpool.search.lexicon import synonym_words, word_key

        errors = {}
        self.phrase = " ".join(self.phrase.split())
        if not word_key(self.phrase):
            errors["phrase"] = _("Type a word in Chinese characters or Latin letters.")
        if not synonym_words(self.alternatives):
            errors["alternatives"] = _("Type at least one word the phrase also finds.")
        if errors:
            raise ValidationError(errors)
