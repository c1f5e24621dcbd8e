# temporary helper: list sensory-looking words in caller turns
import re,sys
W=r"lihat|liat|keliatan|kelihatan|tampil|tampak|terlihat|gambar|bayang|warna|jelas|dengar|denger|kedengar|suara|bunyi|berisik|bising|rasa|kerasa|terasa|sakit|panas|dingin|gerah|berat|keras|pegang|sentuh|lemes|lemas|capek|pegel|sesak|sesek|see|saw|look|watch|show|picture|clear|hear|heard|sound|listen|loud|noise|ring|feel|felt|touch|hot|cold|heavy|hard|warm|stiff|numb|freez|shiver|grab|hold"
for f in sys.argv[1:]:
    for i,l in enumerate(open(f,encoding='utf-8').read().splitlines()):
        if l.startswith('caller'):
            hits=re.findall(r"\w*(?:%s)\w*"%W,l,re.I)
            if hits: print(f,i+1,hits)
