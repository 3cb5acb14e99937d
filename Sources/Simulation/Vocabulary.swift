/// The words the simulator writes with. Each latent dimension ("theme") has its own word lists, and every text is
/// assembled from the lists of the themes that make up the latent vector it describes, so a text encoder can
/// recover the latent factors from the texts (up to the small unwritten latent noise; see docs/SIMULATION.md).
enum Vocabulary {
    /// Theme k ↔ category k: an item's category is its primary theme.
    static let themes = ["outdoor", "style", "home", "reading", "tech", "family", "selfcare", "nature"]
    static let categories = ["shoes", "jackets", "kitchen", "books", "audio", "toys", "beauty", "garden"]
    /// Median price per category (currency units); item prices are these times a log-normal factor.
    static let basePrice: [Double] = [80, 120, 40, 15, 90, 25, 20, 35]

    // MARK: items

    /// Product nouns per category.
    static let nouns: [[String]] = [
        [
            "trail running shoe", "leather sneaker", "hiking boot", "canvas trainer", "slip-on loafer",
            "road running shoe", "ankle boot", "walking sandal"
        ],
        [
            "rain jacket", "wool coat", "puffer jacket", "denim jacket", "fleece jacket", "windbreaker",
            "bomber jacket", "parka"
        ],
        [
            "chef's knife", "cast-iron skillet", "stand mixer", "chopping board", "coffee grinder", "saucepan set",
            "spice rack", "blender"
        ],
        [
            "novel", "cookbook", "history book", "poetry collection", "travel guide", "biography",
            "popular science book", "mystery thriller"
        ],
        [
            "pair of wireless headphones", "bluetooth speaker", "turntable", "pair of earbuds", "soundbar",
            "portable radio", "studio microphone", "smart speaker"
        ],
        [
            "building block set", "board game", "plush bear", "jigsaw puzzle", "remote-control car", "wooden train set",
            "art kit", "science kit"
        ],
        ["face serum", "moisturiser", "lip balm", "shampoo", "body lotion", "hand cream", "face mask", "eau de parfum"],
        [
            "watering can", "pair of pruning shears", "raised planter", "seed starter kit", "garden hose",
            "bird feeder", "compost bin", "herb pot set"
        ]
    ]
    /// Category-specific features ("with ..." phrases) per category.
    static let features: [[String]] = [
        [
            "with a grippy sole", "with a cushioned midsole", "with a wide toe box", "with reinforced laces",
            "with a padded heel collar"
        ],
        [
            "with a detachable hood", "with zip pockets", "with a warm quilted lining", "with adjustable cuffs",
            "with a high collar"
        ],
        [
            "with a comfortable grip", "built to last for years", "that is easy to store",
            "with a sturdy, durable build", "in a brushed steel finish"
        ],
        [
            "with beautiful illustrations", "written in a warm, witty voice", "with practical tips on every page",
            "in a handsome hardback edition", "by an award-winning author"
        ],
        [
            "with deep bass", "with crisp, clear sound", "with simple one-touch controls",
            "with a warm, balanced sound", "with Bluetooth pairing"
        ],
        [
            "for ages six and up", "with easy-to-follow instructions", "that sparks the imagination",
            "in bright primary colours", "that makes a great gift"
        ],
        [
            "with a light, fresh scent", "that absorbs quickly", "with natural oils", "for sensitive skin",
            "in a travel-friendly size"
        ],
        [
            "with a rust-proof finish", "with an ergonomic handle", "that is easy to assemble",
            "built to last outdoors", "sized for balconies and small gardens"
        ]
    ]
    /// Theme adjectives that can qualify any product (an item's secondary theme).
    static let adjectives: [[String]] = [
        ["rugged", "weatherproof", "lightweight", "trail-ready", "breathable"],
        ["sleek", "tailored", "minimalist", "elegant", "fashion-forward"],
        ["practical", "easy-clean", "cosy", "homely", "hard-wearing"],
        ["classic", "understated", "timeless", "thoughtfully made", "old-fashioned"],
        ["smart", "high-tech", "app-connected", "precision-engineered", "digital"],
        ["kid-friendly", "colourful", "playful", "family-sized", "child-safe"],
        ["soothing", "gentle", "pampering", "fragrance-free", "calming"],
        ["eco-friendly", "natural", "sustainably made", "organic", "plastic-free"]
    ]
    /// Theme phrases that close a description (an item's secondary theme).
    static let tails: [[String]] = [
        [
            "built for long hikes", "that shrugs off rain and mud", "made for weekends outdoors",
            "tough enough for camping trips"
        ],
        [
            "with a refined, modern look", "designed to turn heads", "in a timeless cut",
            "with premium stitching details"
        ],
        [
            "made for relaxed days at home", "easy to care for around the house", "a practical everyday favourite",
            "that makes home life easier"
        ],
        [
            "for quiet afternoons with a good book", "loved by curious minds", "with a thoughtful, scholarly touch",
            "that rewards a slow read"
        ],
        [
            "with clever tech inside", "packed with smart features", "for gadget lovers and music fans",
            "that pairs with your phone"
        ],
        [
            "that the whole family will enjoy", "safe and fun for children", "built to survive playtime",
            "perfect for family weekends"
        ],
        [
            "for a calm self-care routine", "that feels gentle on the skin", "made for relaxing evenings",
            "for a little everyday pampering"
        ],
        [
            "made from recycled materials", "for people who love plants and fresh air",
            "with a low environmental footprint", "grown-up and green"
        ]
    ]
    /// Neutral words used where a weak secondary theme leaves a slot free.
    static let neutralAdjectives = ["new", "popular", "best-selling", "everyday", "well-reviewed", "reliable"]
    static let neutralTails = [
        "at a fair price", "a dependable choice", "backed by a two-year warranty", "with free returns",
        "a customer favourite"
    ]

    // MARK: users

    static let roles: [[String]] = [
        ["Runner", "Weekend hiker", "Trail runner", "Keen cyclist", "Climbing enthusiast"],
        ["Fashion lover", "Style-conscious commuter", "Vintage clothing collector", "Wardrobe curator"],
        ["Home cook", "Keen baker", "Dinner-party host", "Coffee nerd"],
        ["Bookworm", "History buff", "Book club regular", "Lifelong learner"],
        ["Music fan", "Audiophile", "Gadget enthusiast", "Podcast addict", "Vinyl collector"],
        ["Parent of two", "Busy parent", "Doting grandparent", "Board-game fan"],
        ["Skincare enthusiast", "Yoga practitioner", "Self-care devotee", "Spa lover"],
        ["Gardener", "Plant lover", "Allotment keeper", "Nature photographer"]
    ]
    /// Verb phrases (third person) per theme.
    static let activities: [[String]] = [
        [
            "buys lightweight gear", "trains for a half marathon", "spends weekends in the hills",
            "goes camping whenever possible", "logs every run"
        ],
        [
            "follows the latest trends", "loves a sharp tailored look", "hunts for statement pieces",
            "refreshes the wardrobe every season"
        ],
        [
            "cooks something new every week", "bakes bread on Sundays", "collects good kitchen tools",
            "hosts friends for dinner"
        ],
        [
            "reads a book a week", "loves long historical novels", "always has a library card handy",
            "takes evening classes"
        ],
        [
            "listens to music all day", "tests every new gadget", "streams podcasts on the commute",
            "is building a home studio"
        ],
        [
            "plans weekend activities for the kids", "looks for toys that teach", "keeps the family busy on rainy days",
            "organises game nights"
        ],
        [
            "keeps a careful skincare routine", "unwinds with long baths", "tries natural beauty products",
            "practises yoga every morning"
        ],
        [
            "grows vegetables on a balcony", "tends a small allotment", "fills the house with plants",
            "feeds the birds every morning"
        ]
    ]
    /// Preference clauses per theme (a user's secondary theme).
    static let preferences: [[String]] = [
        ["prefers durable outdoor gear", "likes anything that survives the rain", "wants kit that is light and tough"],
        ["prefers sleek, stylish designs", "cares about a clean, modern look", "likes bold colours and sharp cuts"],
        ["prefers practical things for the home", "likes things that are easy to clean", "values cosy comforts"],
        [
            "enjoys quiet evenings with a good book", "likes things with a story behind them",
            "loves learning something new"
        ],
        ["likes smart, connected devices", "cares about great sound", "wants the latest tech features"],
        ["shops with the children in mind", "likes playful, colourful things", "wants products that are safe for kids"],
        ["prefers gentle, soothing products", "likes a little pampering", "looks for fragrance-free options"],
        ["prefers eco-friendly, natural materials", "likes sustainably made products", "cares about the environment"]
    ]
    static let segments = ["student", "professional", "family", "retired"]
    /// Per segment, the themes it favours as a primary taste (weight 3 instead of 1).
    static let segmentThemes: [[Int]] = [[4, 3], [1, 2], [5, 2], [7, 3]]
    /// Short self-descriptions per segment, used by some profile templates.
    static let segmentPhrases = [
        ["University student", "Student on a budget", "Postgraduate"],
        ["Office worker", "Young professional", "Remote worker"],
        ["Family of four", "Parent at home", "Household organiser"],
        ["Retired teacher", "Recently retired", "Retiree"]
    ]

    // MARK: queries

    /// Search queries per theme (an impression's `query` comes from a theme drawn from the user's taste).
    static let queries: [[String]] = [
        [
            "trail running shoes", "waterproof hiking boots", "running gear", "camping kit", "lightweight rain jacket",
            "hiking socks"
        ],
        [
            "smart winter coat", "leather sneakers", "designer jacket", "minimalist wardrobe", "stylish boots",
            "new season trends"
        ],
        [
            "cast iron pan", "kitchen knife set", "bread baking tools", "coffee grinder", "easy clean cookware",
            "cosy slippers"
        ],
        [
            "new mystery novels", "history books", "book club picks", "poetry collection", "popular science",
            "best biographies"
        ],
        [
            "noise cancelling headphones", "bluetooth speaker", "record player", "smart home gadgets",
            "wireless earbuds", "podcast microphone"
        ],
        [
            "educational toys", "family board games", "toys for 6 year olds", "rainy day crafts", "wooden train set",
            "kids science kit"
        ],
        [
            "gentle face serum", "skincare for sensitive skin", "bath essentials", "yoga mat", "natural lip balm",
            "relaxing body lotion"
        ],
        [
            "raised garden bed", "vegetable seeds", "pruning shears", "bird feeder", "compost bin",
            "eco friendly garden tools"
        ]
    ]
    static let queryPrefixes = ["", "", "", "best ", "cheap ", "top rated ", "gift ideas "]
}
